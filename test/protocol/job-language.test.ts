/**
 * parseLine and formatCommand as pure functions. The user-facing behaviour (reports on stderr,
 * what reaches the .out) is tested through the real program in test/e2e/batch-parser.test.ts.
 */
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { formatCommand, parseLine, type Command } from '../../protocol/job-language.js';
import { command, listCommand } from '../../runtime/check/job-arbitraries.js';

test('any generated command formats and parses back to itself', (t) => {
  fc.assert(
    fc.property(command, (c) => {
      deepStrictEqual(parseLine(formatCommand(c)), c);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('a generated job text with comments, blank lines and CRLF parses back to its commands', (t) => {
  const filler = fc.constantFrom('', '   ', '\t', '# a comment', '  # WRITE [(a,b)]', '#');
  const entry = fc.oneof({ weight: 3, arbitrary: command.map((c) => ({ c })) }, { weight: 1, arbitrary: filler.map((f) => ({ f })) });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'), (entries, eol) => {
      const text = entries.map((e) => ('c' in e ? formatCommand(e.c) : e.f)).join(eol);
      const parsed: Command[] = [];
      for (const line of text.split('\n')) {
        const p = parseLine(line);
        if (p !== null) {
          if (p.kind === 'invalid') throw new Error(`${JSON.stringify(line)}: ${p.reason}`);
          parsed.push(p);
        }
      }
      deepStrictEqual(parsed, entries.flatMap((e) => ('c' in e ? [e.c] : [])));
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('every proper prefix of a WRITE, READ or DELETE line is rejected', (t) => {
  fc.assert(
    fc.property(listCommand, (c) => {
      const line = formatCommand(c);
      for (let n = 1; n < line.length; n++) {
        const p = parseLine(line.slice(0, n));
        if (p === null || p.kind !== 'invalid') throw new Error(`prefix ${JSON.stringify(line.slice(0, n))} was accepted`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('blank lines and comments parse to null', (t) => {
  for (const line of ['', ' ', '\t\r', '\r', '#', '# WRITE [(a,b)]', '   #x']) t.is(parseLine(line), null, JSON.stringify(line));
});

test('blanks around a command and its list are allowed', (t) => {
  t.deepEqual(parseLine('  READ [a,b]  \r'), { kind: 'read', keys: ['a', 'b'] });
  t.deepEqual(parseLine('WRITE[(a,b)]'), { kind: 'write', pairs: ['a', 'b'] });
});

test('a malformed line parses to an invalid result with a reason, never a throw', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('W', 'R', 'I', 'T', 'E', 'A', 'D', ' ', '(', ')', '[', ']', ',', 'a', '\r', '\t', 'K', 'V', 'S') }), (line) => {
      const p = parseLine(line);
      return p === null || p.kind !== 'invalid' || p.reason.length > 0;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('a lowercase or misspelt command word is answered with the command it is one edit away from', (t) => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['write [(a,1)]', "unknown command 'write' (did you mean WRITE?)"],
    ['REDA [a]', "unknown command 'REDA' (did you mean READ?)"],
    ['DELTE [a]', "unknown command 'DELTE' (did you mean DELETE?)"],
    ['Show', "unknown command 'Show' (did you mean SHOW?)"],
    ['BACKUPS', "unknown command 'BACKUPS' (did you mean BACKUP?)"],
    ['WIAT 10', "unknown command 'WIAT' (did you mean WAIT?)"],
    ['FROB', "unknown command 'FROB'"],
    ['RE', "unknown command 'RE'"],
  ];
  for (const [line, reason] of cases) t.deepEqual(parseLine(line), { kind: 'invalid', reason }, line);
});
