/**
 * The bus's messages (protocol/bus.ts): each kind comes back as it went, in a buffer reused when it
 * is large enough, and bytes that hold no message decode to something no guard accepts, never a throw.
 */
import test from 'ava';
import fc from 'fast-check';
import { decode, encode, isBatchMessage, isToWorker, type ToStore, type ToWorker } from '../../protocol/bus.js';

const bytes = fc.uint8Array({ maxLength: 300 });
const seq = fc.maxSafeNat();
const message: fc.Arbitrary<ToStore | ToWorker> = fc.oneof(
  fc.record({ t: fc.constant('batch' as const), seq, ops: bytes }),
  fc.record({ t: fc.constant('results' as const), seq, results: bytes }),
  fc.constant({ t: 'stop' as const }),
  fc.record({ t: fc.constant('refused' as const), seq }),
  fc.record({ t: fc.constant('failed' as const), reason: fc.string() }),
);

test('every message decodes to what was encoded, and its guard accepts it', (t) => {
  fc.assert(
    fc.property(message, (sent) => {
      const got = decode(encode(sent));
      t.deepEqual(got, sent);
      t.true(sent.t === 'batch' ? isBatchMessage(got) : isToWorker(got));
    }),
  );
});

test('a buffer that came with a message carries the next one when it is large enough', (t) => {
  const first = encode({ t: 'batch', seq: 1, ops: new Uint8Array(100).fill(7) });
  const reused = encode({ t: 'results', seq: 1, results: new Uint8Array([1, 2, 3]) }, first.buffer as ArrayBuffer);
  t.is(reused.buffer, first.buffer);
  t.deepEqual(decode(reused), { t: 'results', seq: 1, results: new Uint8Array([1, 2, 3]) });
  const small = new ArrayBuffer(4);
  const fresh = encode({ t: 'batch', seq: 2, ops: new Uint8Array(10) }, small);
  t.not(fresh.buffer, small);
});

test('bytes that hold no message are refused by the guards, never thrown on', (t) => {
  fc.assert(
    fc.property(bytes, (junk) => {
      const got = decode(junk);
      if (isBatchMessage(got) || isToWorker(got)) t.true(junk.length >= 9 && junk[0]! >= 1 && junk[0]! <= 5, 'only a known kind with a whole header is a message');
    }),
  );
  t.is(decode(new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0, 0])), null);
  t.is(decode(new Uint8Array([1, 2])), null);
});
