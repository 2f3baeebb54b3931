/**
 * The batch layout (protocol/batch-codec.ts): flat form and bytes round-trip, the validator
 * refuses every malformed batch and every truncated prefix, and the plain-line fast path
 * (protocol/plain-lines.ts) accepts only lines parseLine accepts, encoding them the same way.
 */
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual, ok } from 'node:assert/strict';
import { BatchWriter, Op, checkBatch, internLatin1, latin1 } from '../../protocol/batch-codec.js';
import { formatCommand, parseLine, type Command } from '../../protocol/job-language.js';
import { MAX_STRING_BYTES, compareKeys } from '../../protocol/keys.js';
import { appendPlainLine } from '../../protocol/plain-lines.js';
import { Store } from '../../runtime/store/memory-store.js';
import { TOKEN_BYTES, command, key, value } from '../../runtime/check/job-arbitraries.js';
import { decodeOps, decodeResults, encodeOps, encodeResults, type FlatValue } from '../helpers/flat-batch.js';

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A batch in the flat form, BACKUP only at its end, as the bus carries them. */
const flatBatch: fc.Arbitrary<FlatValue[]> = fc
  .tuple(
    fc.array(
      fc.oneof(
        fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 4 }).map((pairs): FlatValue[] => [Op.Write, pairs.length, ...pairs.flat()]),
        fc.array(key, { minLength: 1, maxLength: 4 }).map((keys): FlatValue[] => [Op.Read, keys.length, ...keys]),
        fc.array(key, { minLength: 1, maxLength: 4 }).map((keys): FlatValue[] => [Op.Delete, keys.length, ...keys]),
        fc.constant<FlatValue[]>([Op.Show]),
      ),
      { maxLength: 6 },
    ),
    fc.option(fc.nat({ max: 0xffffffff })),
  )
  .map(([commands, backup]) => [...commands.flat(), ...(backup === null ? [] : [Op.Backup, backup])]);

test('a batch survives bytes and back, and the validator names its commands and trailing BACKUP', (t) => {
  fc.assert(
    fc.property(flatBatch, (ops) => {
      const bytes = encodeOps(ops);
      deepStrictEqual(decodeOps(bytes), ops);
      const check = checkBatch(bytes);
      ok(check.ok);
      const backup = ops.length >= 2 && ops[ops.length - 2] === Op.Backup ? (ops[ops.length - 1] as number) : null;
      deepStrictEqual(check.backup, backup);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('every truncated prefix of a batch that ends inside a command is refused', (t) => {
  fc.assert(
    fc.property(flatBatch.filter((ops) => ops.length > 0), (ops) => {
      const bytes = encodeOps(ops);
      // The places where a whole command ends: a prefix cut there is a shorter, valid batch.
      const ends = new Set<number>([0]);
      let at = 0;
      for (let i = 0; i < ops.length; ) {
        const op = ops[i] as number;
        if (op === Op.Show) {
          at += 1;
          i += 1;
        } else {
          const n = ops[i + 1] as number;
          const tokens = (op === Op.Write ? ops.slice(i + 2, i + 2 + 2 * n) : op === Op.Backup ? [] : ops.slice(i + 2, i + 2 + n)) as string[];
          at += 5 + tokens.reduce((sum, s) => sum + 1 + s.length, 0);
          i += 2 + tokens.length;
        }
        ends.add(at);
      }
      for (let cut = 0; cut < bytes.length; cut++) {
        const check = checkBatch(bytes.subarray(0, cut));
        ok(check.ok === ends.has(cut), `prefix of ${cut} bytes of ${bytes.length}: ${JSON.stringify(check)}`);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('malformed batches are refused with the reason', (t) => {
  const cases: Array<[string, number[]]> = [
    ['unknown op 9', [9, 0, 0, 0, 0]],
    ['unknown op 0', [0]],
    ['truncated count', [Op.Read, 1, 0]],
    ['truncated', [Op.Read, 2, 0, 0, 0, 1, 0x61]],
    ['truncated', [Op.Read, 1, 0, 0, 0, 3, 0x61]],
    ['empty string', [Op.Write, 1, 0, 0, 0, 0, 1, 0x61]],
    ['BACKUP not at the end of its batch', [Op.Backup, 1, 0, 0, 0, Op.Show]],
    // The protocol's fields are at most 40 bytes, and the in-memory store keeps no longer ones.
    [`a string of ${MAX_STRING_BYTES + 1} bytes, longer than ${MAX_STRING_BYTES}`, [Op.Read, 1, 0, 0, 0, MAX_STRING_BYTES + 1, ...new Array<number>(MAX_STRING_BYTES + 1).fill(0x61)]],
  ];
  for (const [reason, bytes] of cases) {
    const check = checkBatch(Uint8Array.from(bytes));
    t.false(check.ok, reason);
    if (!check.ok) t.true(check.error.includes(reason), `${check.error} names ${reason}`);
  }
});

test("results survive the flat form and bytes, against the in-memory store's own", (t) => {
  fc.assert(
    fc.property(fc.array(flatBatch, { minLength: 1, maxLength: 5 }), (batches) => {
      const store = new Store();
      for (const ops of batches) {
        const bytes = encodeOps(ops);
        const results = store.apply(bytes, () => undefined);
        const flat = decodeResults(bytes, results);
        deepStrictEqual(encodeResults(ops, flat), results);
      }
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a DELETE of a key listed twice reports only the second copy missing', (t) => {
  const store = new Store();
  store.apply(encodeOps([Op.Write, 1, 'k', 'v']), () => undefined);
  const batch = encodeOps([Op.Delete, 3, 'k', 'x', 'k']);
  const results = store.apply(batch, () => undefined);
  t.deepEqual([...results], [0, 1, 1]);
  t.deepEqual(decodeResults(batch, results), [2, 'x', 'k']);
  t.deepEqual(encodeResults([Op.Delete, 3, 'k', 'x', 'k'], [2, 'x', 'k']), results);
});

test('latin1 makes the byte string of any bytes', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat({ max: 3 }), (bytes, at) => {
      const from = Math.min(at, bytes.length);
      deepStrictEqual(latin1(bytes, from, bytes.length - from), Buffer.from(bytes.subarray(from)).toString('latin1'));
    }),
  );
  t.pass();
});

test('an interned key is the byte string of its bytes, whatever was met before', (t) => {
  // Many short keys over few bytes, so that hash slots are shared and lengths collide.
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 12 }).map((a) => a.map((b) => b % 3)), { maxLength: 300 }), (keys) => {
      for (const bytes of keys) deepStrictEqual(internLatin1(bytes, 0, bytes.length), Buffer.from(bytes).toString('latin1'));
    }),
  );
  t.pass();
});

/** What the job worker sends for a parsed command: READ and DELETE keys in byte order. */
function encodeCommand(parsed: Command): Uint8Array {
  const w = new BatchWriter();
  if (parsed.kind === 'write') w.write(parsed.pairs);
  else if (parsed.kind === 'read') w.read([...parsed.keys].sort(compareKeys));
  else if (parsed.kind === 'delete') w.delete([...parsed.keys].sort(compareKeys));
  return w.take();
}

/** Runs the fast path on a line; null when it declines (and then it must have written nothing). */
function fastPath(line: string): Uint8Array | null {
  const w = new BatchWriter();
  w.show(); // something before, which a declined line must leave as it was
  const before = w.length;
  // The line sits in a bigger buffer, with its newline after it, as the line reader gives it.
  const buffer = bytesOf(`xx${line}\nWRITE [(z,z)]`);
  const accepted = appendPlainLine(w, buffer, 2, 2 + line.length);
  if (!accepted) {
    deepStrictEqual(w.length, before, 'a declined line leaves the batch as it was');
    deepStrictEqual(w.commands, 1);
    return null;
  }
  deepStrictEqual(w.commands, 2);
  return w.take().subarray(before);
}

/** A valid line, then sometimes bent: blanks, comments, CR, a byte changed, cut, or a reserved value. */
const line = fc.oneof(
  command.map(formatCommand),
  fc.tuple(command.map(formatCommand), fc.nat(), fc.constantFrom(...TOKEN_BYTES, ' ', '\t', '\r', '(', ')', '[', ']', ',', '', '\x7f', '\x00')).map(
    ([text, at, ch]) => text.slice(0, at % (text.length + 1)) + ch + text.slice((at % (text.length + 1)) + (ch === '' ? 1 : 0)),
  ),
  fc.tuple(command.map(formatCommand), fc.constantFrom('\r', ' ', ' # c', '#', '\r\r', ' \r')).map(([text, tail]) => text + tail),
  fc.tuple(key, fc.constantFrom('KVSERROR', 'KVSMISSING', 'DELETED')).map(([k, v]) => `WRITE [(${k},${v})]`),
  fc.tuple(command.map(formatCommand), fc.nat()).map(([text, cut]) => text.slice(0, cut % (text.length + 1))),
);

test('the plain-line fast path accepts only what parseLine accepts, and encodes it the same way', (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(line, (text) => {
      const fast = fastPath(text);
      if (fast === null) return;
      accepted++;
      const parsed = parseLine(text);
      ok(parsed !== null && (parsed.kind === 'write' || parsed.kind === 'read' || parsed.kind === 'delete'), `parseLine accepts ${JSON.stringify(text)}: ${JSON.stringify(parsed)}`);
      deepStrictEqual([...fast], [...encodeCommand(parsed)], JSON.stringify(text));
    }),
    { numRuns: 5000 },
  );
  t.true(accepted > 500, `the fast path took ${accepted} lines`);
});

test('the fast path takes the plain forms of WRITE, READ and DELETE, with a CR', (t) => {
  for (const text of ['WRITE [(a,1)(b,2)]', 'READ [b,a,c]', 'DELETE [z,a]', 'WRITE [(a#b,KVSERRORX)]\r', 'READ [\xff\xfe,a]']) {
    const fast = fastPath(text);
    t.not(fast, null, text);
    const parsed = parseLine(text)!;
    t.deepEqual([...fast!], [...encodeCommand(parsed as Command)], text);
  }
  for (const text of ['WRITE [(a,KVSERROR)]', 'READ []', 'READ [a,]', 'WRITE []', 'READ [a] # x', ' READ [a]', 'READ  [a]', 'WRITE[(a,1)]', 'SHOW', 'READ [a', 'WRITE [(a,1)', `READ [${'k'.repeat(41)}]`]) {
    t.is(fastPath(text), null, text);
  }
});

test('a cleared writer starts its next batch empty (a job thread keeps its writer for the next job)', (t) => {
  const w = new BatchWriter();
  w.write(['a', '1']);
  w.read(['a']);
  w.clear();
  t.is(w.commands, 0);
  t.is(w.length, 0);
  w.delete(['b']);
  t.deepEqual(decodeOps(w.take()), [Op.Delete, 1, 'b']);
});
