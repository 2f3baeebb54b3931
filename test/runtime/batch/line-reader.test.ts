/**
 * LineReader on real files, with tiny chunk sizes so that every line, CR and newline falls on a
 * chunk boundary somewhere, and tiny line limits so that overlong lines are common.
 */
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCommand, parseLine, type Command } from '../../../protocol/job-language.js';
import { LineReader, type Line } from '../../../runtime/batch/line-reader.js';
import { tempDir } from '../../helpers/batch.js';
import { command } from '../../../runtime/check/job-arbitraries.js';

/** What a reader must yield: the text split at '\n', no line after a final '\n', long ones as tooLong. */
function expectedLines(bytes: Uint8Array, maxLineBytes: number): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    if (i === bytes.length && start === bytes.length) break;
    const length = i - start;
    lines.push(length > maxLineBytes ? { tooLong: length } : Buffer.from(bytes.subarray(start, i)).toString('latin1'));
    start = i + 1;
  }
  return lines;
}

function readAll(path: string, maxLineBytes?: number, chunkBytes?: number): { lines: Line[]; numbers: number[] } {
  const reader = new LineReader(path, maxLineBytes, chunkBytes);
  const lines: Line[] = [];
  const numbers: number[] = [];
  try {
    for (let line = reader.next(); line !== null; line = reader.next()) {
      lines.push(line);
      numbers.push(reader.lineNumber);
    }
    strictEqual(reader.next(), null, 'stays at the end');
  } finally {
    reader.close();
  }
  return { lines, numbers };
}

test('any file read in tiny chunks yields its lines, with overlong ones reported by length', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'lines.job');
  const bytes = fc.uint8Array({ maxLength: 80 }).map((a) => a.map((b) => [0x0a, 0x0d, 0x61, 0x62, 0xff, 0x0a][b % 6]!));
  fc.assert(
    fc.property(bytes, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 12 }), (content, chunkBytes, maxLineBytes) => {
      writeFileSync(path, content);
      const { lines, numbers } = readAll(path, maxLineBytes, chunkBytes);
      deepStrictEqual(lines, expectedLines(content, maxLineBytes));
      deepStrictEqual(numbers, lines.map((_, i) => i + 1));
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('generated commands written to a file read back as the same commands, whatever the chunk size', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'commands.job');
  fc.assert(
    fc.property(fc.array(command, { maxLength: 20 }), fc.integer({ min: 1, max: 16 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), (commands, chunkBytes, eol, finalEol) => {
      const text = commands.map(formatCommand).join(eol) + (finalEol && commands.length > 0 ? eol : '');
      writeFileSync(path, Buffer.from(text, 'latin1'));
      const parsed: Command[] = [];
      for (const line of readAll(path, undefined, chunkBytes).lines) {
        if (typeof line !== 'string') throw new Error('no line here is too long');
        const p = parseLine(line);
        if (p === null || p.kind === 'invalid') throw new Error(`${JSON.stringify(line)} did not parse`);
        parsed.push(p);
      }
      deepStrictEqual(parsed, commands);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a CRLF line keeps its carriage return for the parser to drop', (t) => {
  const path = join(tempDir(t), 'crlf.job');
  writeFileSync(path, 'SHOW\r\nHELP\r\n');
  t.deepEqual(readAll(path).lines, ['SHOW\r', 'HELP\r']);
});

test('an overlong line is skipped to its newline and the next lines are intact', (t) => {
  const path = join(tempDir(t), 'long.job');
  writeFileSync(path, `SHOW\n${'x'.repeat(100)}\nHELP\n${'y'.repeat(30)}`);
  t.deepEqual(readAll(path, 20, 8), { lines: ['SHOW', { tooLong: 100 }, 'HELP', { tooLong: 30 }], numbers: [1, 2, 3, 4] });
});

test('a line of exactly the limit is returned whole', (t) => {
  const path = join(tempDir(t), 'limit.job');
  writeFileSync(path, `${'x'.repeat(20)}\n${'y'.repeat(21)}\n`);
  t.deepEqual(readAll(path, 20, 3).lines, ['x'.repeat(20), { tooLong: 21 }]);
});

test('bytes that are not UTF-8 come back one char per byte', (t) => {
  const path = join(tempDir(t), 'bytes.job');
  writeFileSync(path, Buffer.from([0xff, 0x80, 0xc3, 0xa9, 0x0a, 0x00, 0x0a]));
  t.deepEqual(readAll(path, undefined, 2).lines, ['\xff\x80\xc3\xa9', '\x00']);
});

test('an empty file has no lines', (t) => {
  const path = join(tempDir(t), 'empty.job');
  writeFileSync(path, '');
  t.deepEqual(readAll(path).lines, []);
});

test('a missing file fails when the reader is made, not later', (t) => {
  const error = t.throws(() => new LineReader(join(tempDir(t), 'missing.job')));
  t.is((error as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
});
