/**
 * The registration FIFO is shared by every client: a writer that gives up midway (or dribbles)
 * leaves bytes that the next client's request lands behind. The reader must still find that request.
 */
import test from 'ava';
import { FrameReader } from '../../protocol/frame-reader.js';
import { encode } from '../../protocol/frames.js';

const good = { kind: 'connect' as const, reqPipe: '/tmp/reqA', respPipe: '/tmp/respA', notifPipe: '/tmp/notifA' };

for (const stray of ['\u0001', '\u0001/////', '\u0001/tmp/x', '\u0001\u0001\u0001']) {
  test(`a good connect request behind a stray ${JSON.stringify(stray)} is still decoded`, (t) => {
    const reader = new FrameReader('register');
    const results = [...reader.push(Buffer.concat([Buffer.from(stray, 'latin1'), encode(good)]))];
    const frames = results.filter((r) => r.ok).map((r) => r.ok && r.value);
    t.deepEqual(frames, [good], JSON.stringify(results));
    t.is(reader.pendingBytes, 0);
  });
}

test('good requests on either side of a stray are all decoded, in order', (t) => {
  const second = { ...good, reqPipe: '/tmp/reqB' };
  const reader = new FrameReader('register');
  const results = [...reader.push(Buffer.concat([encode(good), Buffer.from('\u0001//', 'latin1'), encode(second)]))];
  t.deepEqual(results.filter((r) => r.ok).map((r) => r.ok && r.value), [good, second]);
});
