import test from 'ava';
import fc from 'fast-check';
import {
  type Channel,
  type DecodeErrorCode,
  type Frame,
  CONNECT_SIZE,
  KEY_REQUEST_SIZE,
  NOTIFICATION_SIZE,
  OpCode,
  decode,
  encode,
  encodeNotification,
  encodeResponse,
} from '../../protocol/frames.js';
import { FrameReader } from '../../protocol/frame-reader.js';

function channelOf(frame: Frame): Channel {
  switch (frame.kind) {
    case 'connect':
      return 'register';
    case 'response':
      return 'response';
    case 'notification':
      return 'notification';
    default:
      return 'request';
  }
}

function keyField(bytes: number[]): Buffer {
  const buf = Buffer.alloc(41);
  Buffer.from(bytes).copy(buf);
  return buf;
}

test('a connect request is 121 bytes: op 1 then three NUL-padded 40-byte paths', (t) => {
  const buf = encode({ kind: 'connect', reqPipe: '/tmp/req1', respPipe: '/tmp/resp1', notifPipe: '/tmp/notif1' });
  t.is(buf.length, CONNECT_SIZE);
  t.is(buf[0], 1);
  t.is(buf.toString('latin1', 1, 10), '/tmp/req1');
  t.is(buf[10], 0);
  t.is(buf.toString('latin1', 41, 51), '/tmp/resp1');
  t.is(buf.toString('latin1', 81, 92), '/tmp/notif1');
});

test('a 40-byte pipe path fills its field with no NUL and still decodes', (t) => {
  const path = '/tmp/' + 'x'.repeat(35);
  const buf = encode({ kind: 'connect', reqPipe: path, respPipe: path, notifPipe: path });
  t.deepEqual(decode('register', buf), { ok: true, value: { kind: 'connect', reqPipe: path, respPipe: path, notifPipe: path } });
});

test('request, response and notification frames have the course sizes', (t) => {
  t.deepEqual([...encode({ kind: 'disconnect' })], [2]);
  const sub = encode({ kind: 'subscribe', key: 'abc' });
  t.is(sub.length, KEY_REQUEST_SIZE);
  t.deepEqual([...sub.subarray(0, 5)], [3, 97, 98, 99, 0]);
  t.is(encode({ kind: 'unsubscribe', key: 'k' })[0], 4);
  t.deepEqual([...encodeResponse(OpCode.Subscribe, 1)], [3, 1]);
  const notif = encodeNotification('key1', 'DELETED');
  t.is(notif.length, NOTIFICATION_SIZE);
  t.is(notif.toString('latin1', 41, 48), 'DELETED');
  t.is(notif[48], 0);
});

const badRequests: Array<[string, Channel, Buffer, DecodeErrorCode]> = [
  ['an empty frame', 'request', Buffer.alloc(0), 'truncated'],
  ['op code 0', 'request', Buffer.of(0), 'unknown-op'],
  ['op code 9', 'request', Buffer.of(9), 'unknown-op'],
  ['connect on a request FIFO', 'request', Buffer.alloc(121, 1), 'unknown-op'],
  ['a disconnect on the registration FIFO', 'register', Buffer.of(2), 'unknown-op'],
  ['a key with no NUL in 41 bytes', 'request', Buffer.concat([Buffer.of(3), Buffer.alloc(41, 0x61)]), 'bad-string'],
  ['a key of 41 bytes then NUL past the field', 'request', Buffer.concat([Buffer.of(4), Buffer.alloc(41, 0x61)]), 'bad-string'],
  ['an empty key', 'request', Buffer.concat([Buffer.of(3), keyField([])]), 'bad-string'],
  ['a short subscribe', 'request', Buffer.concat([Buffer.of(3), Buffer.from('ab\0')]), 'truncated'],
  ['a subscribe with trailing bytes', 'request', Buffer.concat([Buffer.of(3), keyField([97]), Buffer.of(0)]), 'trailing-bytes'],
  ['a connect with an empty pipe path', 'register', Buffer.concat([Buffer.of(1), Buffer.alloc(120)]), 'bad-string'],
  ['a response with op code 7', 'response', Buffer.of(7, 0), 'unknown-op'],
  ['a notification with an empty value', 'notification', Buffer.concat([keyField([97]), keyField([])]), 'bad-string'],
];

for (const [name, channel, bytes, code] of badRequests) {
  test(`decode rejects ${name} (${code})`, (t) => {
    const result = decode(channel, bytes);
    t.false(result.ok);
    if (!result.ok) t.is(result.error.code, code);
  });
}

test('a malformed subscribe still reports its op code so the session can answer it', (t) => {
  const result = decode('request', Buffer.concat([Buffer.of(3), Buffer.alloc(41, 0x61)]));
  t.false(result.ok);
  if (!result.ok) t.is(result.error.op, OpCode.Subscribe);
});

test('bytes after the NUL of a key field are ignored, as a C client may leave them', (t) => {
  const field = keyField([107, 0, 120, 120]);
  t.deepEqual(decode('request', Buffer.concat([Buffer.of(3), field])), { ok: true, value: { kind: 'subscribe', key: 'k' } });
});

test('encode refuses strings that do not fit their field', (t) => {
  t.throws(() => encode({ kind: 'subscribe', key: 'k'.repeat(41) }), { instanceOf: RangeError });
  t.throws(() => encode({ kind: 'subscribe', key: '' }), { instanceOf: RangeError });
  t.throws(() => encodeNotification('a\0b', 'v'), { instanceOf: RangeError });
});

const byteString = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a.map((b) => b || 1)).toString('latin1'));

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ kind: fc.constant('connect' as const), reqPipe: byteString(1, 40), respPipe: byteString(1, 40), notifPipe: byteString(1, 40) }),
  fc.constant({ kind: 'disconnect' as const }),
  fc.record({ kind: fc.constantFrom('subscribe' as const, 'unsubscribe' as const), key: byteString(1, 40) }),
  fc.record({ kind: fc.constant('response' as const), op: fc.constantFrom(OpCode.Connect, OpCode.Disconnect, OpCode.Subscribe, OpCode.Unsubscribe), result: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('notification' as const), key: byteString(1, 40), value: byteString(1, 40) }),
);

test('every frame decodes back to itself', (t) => {
  fc.assert(
    fc.property(frameArb, (frame) => {
      const result = decode(channelOf(frame), encode(frame));
      return result.ok && JSON.stringify(result.value) === JSON.stringify(frame);
    }),
  );
  t.pass();
});

test('every truncated prefix of every frame is rejected', (t) => {
  fc.assert(
    fc.property(frameArb, (frame) => {
      const bytes = encode(frame);
      for (let n = 0; n < bytes.length; n++) {
        const result = decode(channelOf(frame), bytes.subarray(0, n));
        if (result.ok || result.error.code !== 'truncated') return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('a stream fed one byte at a time yields the same frames in order', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(frameArb.filter((f) => channelOf(f) === 'request')), { maxLength: 20 }), (frames) => {
      const reader = new FrameReader('request');
      const out: Frame[] = [];
      const bytes = Buffer.concat(frames.map(encode));
      for (const byte of bytes) {
        for (const r of reader.push(Buffer.of(byte))) {
          if (!r.ok) return false;
          out.push(r.value);
        }
      }
      return reader.end().ok && JSON.stringify(out) === JSON.stringify(frames);
    }),
  );
  t.pass();
});

test('joined and split chunks yield whole frames only', (t) => {
  fc.assert(
    fc.property(fc.array(frameArb.filter((f) => f.kind === 'connect'), { minLength: 1, maxLength: 10 }), fc.array(fc.nat(200)), (frames, cuts) => {
      const bytes = Buffer.concat(frames.map(encode));
      const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      const reader = new FrameReader('register');
      const out: Frame[] = [];
      let from = 0;
      for (const to of [...points, bytes.length]) {
        for (const r of reader.push(bytes.subarray(from, to))) if (r.ok) out.push(r.value);
        from = to;
      }
      return JSON.stringify(out) === JSON.stringify(frames);
    }),
  );
  t.pass();
});

test('a consumer may stop early and take the remaining frames later', (t) => {
  const reader = new FrameReader('request');
  const bytes = Buffer.concat([encode({ kind: 'subscribe', key: 'a' }), encode({ kind: 'subscribe', key: 'b' }), encode({ kind: 'disconnect' })]);
  for (const r of reader.push(bytes)) {
    t.deepEqual(r, { ok: true, value: { kind: 'subscribe', key: 'a' } });
    break;
  }
  t.is(reader.pendingBytes, 43);
  t.deepEqual([...reader.frames()].map((r) => r.ok && r.value.kind), ['subscribe', 'disconnect']);
});

test('the registration reader skips a garbage byte and resynchronises on the next connect', (t) => {
  const reader = new FrameReader('register');
  const connect = encode({ kind: 'connect', reqPipe: '/a', respPipe: '/b', notifPipe: '/c' });
  const results = [...reader.push(Buffer.concat([Buffer.of(0x7f), connect]))];
  t.is(results.length, 2);
  t.false(results[0]?.ok);
  t.true(results[1]?.ok);
});

test('a stream that ends inside a frame is reported as truncated', (t) => {
  const reader = new FrameReader('request');
  t.deepEqual([...reader.push(Buffer.of(3, 97))], []);
  const end = reader.end();
  t.false(end.ok);
  if (!end.ok) t.is(end.error.code, 'truncated');
});
