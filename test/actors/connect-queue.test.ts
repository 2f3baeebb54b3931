import test from 'ava';
import { ConnectQueue } from '../../actors/connect-queue.js';
import type { ConnectFrame } from '../../protocol/frames.js';

const req = (n: number): ConnectFrame => ({ kind: 'connect', reqPipe: `r${n}`, respPipe: `s${n}`, notifPipe: `n${n}` });

test('the connect queue hands requests out in arrival order and reports room after being full', async (t) => {
  const queue = new ConnectQueue(2);
  let spaces = 0;
  queue.onSpace = () => spaces++;
  queue.offer(req(1));
  queue.offer(req(2));
  t.true(queue.full);
  t.throws(() => queue.offer(req(3)));
  const signal = new AbortController().signal;
  t.is((await queue.take(signal)).reqPipe, 'r1');
  t.is(spaces, 1);
  t.is((await queue.take(signal)).reqPipe, 'r2');
  const waiting = queue.take(signal);
  queue.offer(req(4));
  t.is((await waiting).reqPipe, 'r4');
  t.is(queue.length, 0);
});

test('an aborted take leaves the queue and a later request goes to the next taker', async (t) => {
  const queue = new ConnectQueue(2);
  const controller = new AbortController();
  const abandoned = queue.take(controller.signal);
  controller.abort(new Error('session stopped'));
  await t.throwsAsync(abandoned, { message: 'session stopped' });
  queue.offer(req(1));
  t.is(queue.length, 1);
  t.deepEqual(queue.drain().map((r) => r.reqPipe), ['r1']);
});
