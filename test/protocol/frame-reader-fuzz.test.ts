/**
 * Fuzz: the server's frame decoder (FrameReader) fed byte streams split at random points. Frames
 * that were sent come out exactly, in order, wherever the stream is cut; random bytes never make
 * it throw, never make it return a frame that is not in the bytes it was given, and are cut the
 * same way whatever the split.
 */
import test from 'ava';
import fc from 'fast-check';
import { FrameReader } from '../../protocol/frame-reader.js';
import { type Channel, type Frame, OpCode, encode } from '../../protocol/frames.js';

const pathByte = fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c));
const text = (max: number) => fc.string({ unit: pathByte, minLength: 1, maxLength: max });

const framesOf: Record<Channel, fc.Arbitrary<Frame>> = {
  register: fc.record({ kind: fc.constant('connect' as const), reqPipe: text(40), respPipe: text(40), notifPipe: text(40) }),
  request: fc.oneof(
    fc.constant({ kind: 'disconnect' as const }),
    fc.record({ kind: fc.constantFrom('subscribe' as const, 'unsubscribe' as const), key: text(40) }),
  ),
  response: fc.record({ kind: fc.constant('response' as const), op: fc.constantFrom(OpCode.Connect, OpCode.Disconnect, OpCode.Subscribe, OpCode.Unsubscribe), result: fc.integer({ min: 0, max: 255 }) }),
  notification: fc.record({ kind: fc.constant('notification' as const), key: text(40), value: text(40) }),
};

const channel = fc.constantFrom<Channel>('register', 'request', 'response', 'notification');

/** Cuts `bytes` at the given points (taken modulo its length), in order. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  chunks.push(bytes.subarray(from));
  return chunks;
}

/** Every result the reader yields for these chunks, with the stream offset where each frame began. */
function readAll(ch: Channel, chunks: readonly Buffer[]): Array<{ at: number; result: unknown }> {
  const reader = new FrameReader(ch);
  const out: Array<{ at: number; result: unknown }> = [];
  let fed = 0;
  for (const chunk of chunks) {
    fed += chunk.length;
    const startPending = reader.pendingBytes + chunk.length;
    let consumed = 0;
    for (const result of reader.push(chunk)) {
      const pendingNow = reader.pendingBytes;
      // Where this frame began: bytes fed so far, minus what was pending before it was cut.
      const at = fed - startPending + consumed;
      consumed = startPending - pendingNow;
      out.push({ at, result });
    }
  }
  return out;
}

test('frames sent on any channel come out exactly and in order, wherever the stream is split', (t) => {
  fc.assert(
    fc.property(
      channel.chain((ch) => fc.tuple(fc.constant(ch), fc.array(framesOf[ch], { maxLength: 20 }))),
      fc.array(fc.nat(), { maxLength: 30 }),
      ([ch, frames], cuts) => {
        const stream = Buffer.concat(frames.map((f) => encode(f)));
        const reader = new FrameReader(ch);
        const got: unknown[] = [];
        for (const chunk of split(stream, cuts)) for (const result of reader.push(chunk)) got.push(result);
        const end = reader.end();
        return JSON.stringify(got) === JSON.stringify(frames.map((value) => ({ ok: true, value }))) && end.ok;
      },
    ),
    { numRuns: 2000 },
  );
  t.pass();
});

/** Bytes near the protocol's op codes and NULs, and any byte now and then. */
const noisyByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, 3, 4, 0x61) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

test('random byte streams split at random points: never a throw, never a frame that was not in the bytes, the same frames whatever the split', (t) => {
  let frames = 0;
  let errors = 0;
  fc.assert(
    fc.property(channel, fc.array(noisyByte, { maxLength: 600 }), fc.array(fc.nat(), { maxLength: 40 }), (ch, raw, cuts) => {
      const stream = Buffer.from(raw);
      const whole = readAll(ch, [stream]);
      const pieces = readAll(ch, split(stream, cuts));
      if (JSON.stringify(pieces) !== JSON.stringify(whole)) return false;
      for (const { at, result } of whole) {
        const r = result as { ok: boolean; value?: Frame };
        if (!r.ok) {
          errors++;
          continue;
        }
        frames++;
        // The frame is the bytes at its offset: encoding it again gives them back, once the
        // bytes C ignores after a string's NUL are cleared.
        const sent = encode(r.value!);
        const there = Buffer.from(stream.subarray(at, at + sent.length));
        if (!sameUpToPadding(ch, there, sent)) return false;
      }
      return true;
    }),
    { numRuns: 2000 },
  );
  t.log(`random streams: ${frames} frames decoded, ${errors} errors reported`);
  t.true(frames > 0 && errors > 0, 'the streams reach both frames and errors');
});

/** String fields of each channel: [offset, size]. */
const FIELDS: Record<Channel, Array<[number, number]>> = {
  register: [[1, 40], [41, 40], [81, 40]],
  request: [[1, 41]],
  response: [],
  notification: [[0, 41], [41, 41]],
};

function sameUpToPadding(ch: Channel, there: Buffer, sent: Buffer): boolean {
  if (there.length !== sent.length) return false;
  const cleared = Buffer.from(there);
  for (const [offset, size] of ch === 'request' && there[0] === OpCode.Disconnect ? [] : FIELDS[ch]) {
    const nul = cleared.indexOf(0, offset);
    if (nul >= 0 && nul < offset + size) cleared.fill(0, nul, offset + size);
  }
  return cleared.equals(sent);
}
