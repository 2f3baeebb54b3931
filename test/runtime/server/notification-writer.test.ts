import { mock } from 'node:test';
import test, { type ExecutionContext } from 'ava';
import { NotificationWriter, type WritableSink } from '../../../runtime/server/notification-writer.js';

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
/** Past the event loop's check phase, where the writer reads a limit's answer, and its report. */
const afterCheck = () => new Promise<void>((r) => setImmediate(r));

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

/**
 * The stall window is about time itself, so it runs on Node's mock timers (node:test's
 * `mock.timers`, on setTimeout only): the test moves the clock, and nothing depends on how fast
 * this machine runs. Serial, since the mock replaces the process's setTimeout while enabled.
 */
function fakeClock(t: ExecutionContext): { tick(ms: number): void } {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.teardown(() => mock.timers.reset());
  return { tick: (ms) => mock.timers.tick(ms) };
}

/**
 * A writer on its own sink with four frames written to it (past stallBytes 82), watched for a
 * stall of 50 ms on the mock clock; `overflows()` counts the reports.
 */
async function stallWatched(t: ExecutionContext) {
  const clock = fakeClock(t);
  const sink = new FakeSink();
  let overflows = 0;
  const writer = new NotificationWriter(sink, { capBytes: 1 << 20, stallBytes: 82, stallMs: 50 }, () => overflows++);
  for (let i = 0; i < 4; i++) writer.notify(frame(i));
  await nextMicrotask();
  return { clock, sink, writer, overflows: () => overflows };
}

test.serial('a reader that takes nothing for stallMs past stallBytes is reported once, at stallMs and not before', async (t) => {
  const { clock, sink: stalled, writer, overflows } = await stallWatched(t);
  t.is(stalled.writes.length, 1, 'the frames were written, past stallBytes');
  clock.tick(49);
  await afterCheck();
  t.is(overflows(), 0, 'not reported before stallMs');
  clock.tick(1);
  await afterCheck();
  t.is(overflows(), 1, 'reported at stallMs');
  writer.notify(frame(9));
  clock.tick(500);
  await afterCheck();
  await nextMicrotask();
  t.is(overflows(), 1, 'reported once; later notifications are dropped');
  t.is(stalled.writes.length, 1);
});

test.serial('a reader that takes some bytes in every stallMs window is never reported; when it stops, it is', async (t) => {
  const { clock, sink: reading, writer, overflows } = await stallWatched(t);
  // Ten windows in a row, each with one byte taken just before it closes.
  for (let window = 0; window < 10; window++) {
    clock.tick(49);
    reading.writableLength -= 1;
    clock.tick(1);
    await afterCheck();
    t.is(overflows(), 0, `window ${window}: a reader that took a byte is not reported`);
  }
  // Still past stallBytes, and now it takes nothing: the next full window reports it.
  clock.tick(50);
  await afterCheck();
  t.is(overflows(), 1);
});

test.serial('a reader that drains below stallBytes is not watched any more', async (t) => {
  const { clock, sink, writer, overflows } = await stallWatched(t);
  sink.writableLength = 82;
  clock.tick(1000);
  await afterCheck();
  t.is(overflows(), 0);
});

test.serial('a reader whose bytes are taken only once the server\'s loop runs again is not reported', async (t) => {
  const { clock, sink, writer, overflows } = await stallWatched(t);
  // The server's loop was held past the window: its timer fires first, then libuv's poll phase
  // writes into the pipe the reader emptied meanwhile (modelled by an immediate queued before).
  setImmediate(() => (sink.writableLength -= 82));
  clock.tick(50);
  await afterCheck();
  t.is(overflows(), 0, 'the reader took bytes in the poll phase after the timer: it is reading');
  clock.tick(50);
  await afterCheck();
  t.is(overflows(), 1, 'a full window with nothing taken after that is reported');
});
