import test from 'ava';
import { NotificationWriter, type WritableSink } from '../../runtime/notification-writer.js';

class FakeSink implements WritableSink {
  writes: Buffer[] = [];
  writableLength = 0;
  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    this.writableLength += chunk.length;
    return false;
  }
}

const frame = (n: number) => Buffer.alloc(82, n);
const nextMicrotask = () => new Promise<void>((r) => queueMicrotask(r));

test('the frames of one turn are written once, after the turn, in order', async (t) => {
  const sink = new FakeSink();
  const writer = new NotificationWriter(sink, { capBytes: 1 << 20, stallBytes: 1 << 20, stallMs: 1000 }, () => t.fail());
  writer.notify(frame(1));
  writer.notify(frame(2));
  t.is(sink.writes.length, 0);
  await nextMicrotask();
  t.is(sink.writes.length, 1);
  t.deepEqual(sink.writes[0], Buffer.concat([frame(1), frame(2)]));
});

test('past the hard cap the writer stops and reports an overflow once', async (t) => {
  const sink = new FakeSink();
  let overflows = 0;
  const writer = new NotificationWriter(sink, { capBytes: 82 * 3, stallBytes: 1 << 20, stallMs: 1000 }, () => overflows++);
  for (let i = 0; i < 10; i++) writer.notify(frame(i));
  await nextMicrotask();
  await nextMicrotask();
  t.is(overflows, 1);
  t.is(sink.writes.length, 0);
});

test('a reader that takes nothing for stallMs past stallBytes is reported; one that reads is not', async (t) => {
  const limits = { capBytes: 1 << 20, stallBytes: 82, stallMs: 50 };
  const stalled = new FakeSink();
  const reading = new FakeSink();
  let stalledOverflows = 0;
  let readingOverflows = 0;
  const a = new NotificationWriter(stalled, limits, () => stalledOverflows++);
  const b = new NotificationWriter(reading, limits, () => readingOverflows++);
  for (let i = 0; i < 4; i++) {
    a.notify(frame(i));
    b.notify(frame(i));
  }
  await nextMicrotask();
  const drain = setInterval(() => (reading.writableLength = Math.max(82 * 2, reading.writableLength - 1)), 10);
  t.teardown(() => clearInterval(drain));
  const deadline = Date.now() + 5000;
  while (stalledOverflows === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.is(stalledOverflows, 1);
  t.is(readingOverflows, 0);
});
