import test from 'ava';
import { ConnectQueue } from '../../actors/connect-queue.js';
import { type Subscriber, SubscriptionRegistry } from '../../actors/subscriptions.js';
import { decode, type ConnectFrame } from '../../protocol/frames.js';

function recorder(): Subscriber & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    notify(frame) {
      const r = decode('notification', frame);
      if (r.ok) seen.push(`${r.value.key}=${r.value.value}`);
    },
  };
}

test('a change reaches every subscriber of its key, in order, and DELETE arrives as DELETED', (t) => {
  const registry = new SubscriptionRegistry();
  const a = recorder();
  const b = recorder();
  registry.add('k', a);
  registry.add('k', b);
  registry.add('z', b);
  registry.onChange('k', '1');
  registry.onChange('z', '2');
  registry.onChange('other', '3');
  registry.onChange('k', null);
  t.deepEqual(a.seen, ['k=1', 'k=DELETED']);
  t.deepEqual(b.seen, ['k=1', 'z=2', 'k=DELETED']);
});

test('adding twice is one subscription; remove reports whether there was one', (t) => {
  const registry = new SubscriptionRegistry();
  const a = recorder();
  t.true(registry.add('k', a));
  t.false(registry.add('k', a));
  registry.onChange('k', 'v');
  t.deepEqual(a.seen, ['k=v']);
  t.true(registry.remove('k', a));
  t.false(registry.remove('k', a));
  t.is(registry.keyCount, 0);
});

test('removeAll drops one subscriber everywhere and leaves the others', (t) => {
  const registry = new SubscriptionRegistry();
  const a = recorder();
  const b = recorder();
  for (const key of ['x', 'y']) {
    registry.add(key, a);
    registry.add(key, b);
  }
  registry.removeAll(a, ['x', 'y']);
  registry.onChange('x', '1');
  t.deepEqual(a.seen, []);
  t.deepEqual(b.seen, ['x=1']);
});

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
