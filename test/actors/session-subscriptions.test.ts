/**
 * A session with several subscription actors, on a fake link and the real registry: which actors
 * it spawns, which it ends and with what reason, and that a DELETE is seen by the subscription
 * while notifications still go straight to the client.
 */
import test, { type ExecutionContext } from 'ava';
import { type AnyActorRef, waitFor } from 'xstate';
import { type SessionEvent, endReason } from '../../actors/session.js';
import { type SubscriptionEndReason, type SubscriptionOutput, subscriptionId } from '../../actors/subscription.js';
import { SubscriptionRegistry, type WatchSchedule } from '../../actors/subscription-registry.js';
import { OpCode, decode } from '../../protocol/frames.js';
import { connectRequest as request, startSession } from '../helpers/session-fixture.js';

/** The registry tells subscriptions of DELETEs when its window ends: here, when the test says. */
function manualWindow(): { schedule: WatchSchedule; end: () => void } {
  let pending: (() => void) | null = null;
  return {
    schedule: (tell) => {
      pending = tell;
      return () => (pending = null);
    },
    end: () => {
      const tell = pending;
      pending = null;
      tell?.();
    },
  };
}

type Ended = { key: string; sessionId: string; output: SubscriptionOutput };

/** A session on a fake link; every subscription actor it starts and every one that ends is recorded. */
function setup(t: ExecutionContext) {
  const window = manualWindow();
  const started: { key: string; sessionId: string }[] = [];
  const ended: Ended[] = [];
  const session = startSession(t, {
    keys: ['a', 'b', 'c'],
    registry: new SubscriptionRegistry(window.schedule),
    inspect: (event) => {
      const ref = event.actorRef as AnyActorRef;
      if (!ref.id.startsWith('subscription:')) return;
      // Registered before its snapshot exists: the key is read from the id.
      const key = ref.id.slice('subscription:'.length);
      if (event.type === '@xstate.actor') started.push({ key, sessionId: ref.sessionId });
      if (event.type === '@xstate.snapshot' && event.snapshot.status === 'done') {
        ended.push({ key, sessionId: ref.sessionId, output: (event.snapshot as { output: SubscriptionOutput }).output });
      }
    },
  });
  const { actor } = session;
  /** The live subscription actors, key -> state. */
  const live = () => {
    const result: Record<string, unknown> = {};
    for (const subscription of actor.getSnapshot().context.subscriptions.values()) {
      const snapshot = subscription.getSnapshot();
      if (snapshot.status === 'active') result[snapshot.context.key] = snapshot.value;
    }
    return result;
  };
  return { ...session, started, ended, live, endWindow: window.end };
}

test('each successful SUBSCRIBE starts one subscription actor for its key; subscribing twice is still one', async (t) => {
  const { actor, queue, started, connected, live } = setup(t);
  queue.offer(request(1));
  const link = await connected();
  for (const key of ['a', 'b', 'a', 'missing', 'c', 'b']) actor.send({ type: 'client.subscribe', key });
  t.deepEqual(link.answers.slice(1).map(([, result]) => result), [0, 0, 0, 1, 0, 0]);
  t.deepEqual(started.map((s) => s.key), ['a', 'b', 'c']);
  t.deepEqual(live(), { a: 'active', b: 'active', c: 'active' });
  t.deepEqual([...actor.getSnapshot().context.subscriptions].sort(), ['a', 'b', 'c']);
});

test('UNSUBSCRIBE ends exactly the one subscription it names, with reason unsubscribe', async (t) => {
  const { actor, queue, registry, ended, connected, live } = setup(t);
  queue.offer(request(1));
  await connected();
  for (const key of ['a', 'b', 'c']) actor.send({ type: 'client.subscribe', key });
  actor.send({ type: 'client.unsubscribe', key: 'b' });
  t.deepEqual(ended.map((e) => [e.key, e.output.reason]), [['b', 'unsubscribe']]);
  t.deepEqual(live(), { a: 'active', c: 'active' });
  // Out of the session's children, and out of the registry.
  t.is(actor.getSnapshot().children[subscriptionId('b')], undefined);
  t.is(registry.subscribersOf('b'), 0);
  t.is(registry.watchersOf('b'), 0);
  // An UNSUBSCRIBE of a key not subscribed ends nothing.
  actor.send({ type: 'client.unsubscribe', key: 'b' });
  t.is(ended.length, 1);
});

test('SUBSCRIBE after UNSUBSCRIBE starts a new subscription actor for the key', async (t) => {
  const { actor, queue, started, connected, live } = setup(t);
  queue.offer(request(1));
  await connected();
  actor.send({ type: 'client.subscribe', key: 'a' });
  actor.send({ type: 'client.unsubscribe', key: 'a' });
  actor.send({ type: 'client.subscribe', key: 'a' });
  t.is(started.length, 2);
  t.not(started[0]!.sessionId, started[1]!.sessionId);
  t.deepEqual(live(), { a: 'active' });
});

test('SIGUSR1 (server.reset) ends every subscription of the session with reason reset', async (t) => {
  const { actor, queue, registry, ended, connected, live } = setup(t);
  queue.offer(request(1));
  await connected();
  for (const key of ['a', 'b', 'c']) actor.send({ type: 'client.subscribe', key });
  actor.send({ type: 'server.reset' });
  await waitFor(actor, (s) => s.matches('idle'), { timeout: 60_000 });
  t.deepEqual(ended.map((e) => [e.key, e.output.reason]).sort(), [['a', 'reset'], ['b', 'reset'], ['c', 'reset']]);
  t.deepEqual(live(), {});
  t.deepEqual(Object.keys(actor.getSnapshot().children).filter((id) => id.startsWith('subscription:')), []);
  t.is(registry.keyCount, 0);
  for (const key of ['a', 'b', 'c']) t.is(registry.watchersOf(key), 0);
});

const ENDINGS: readonly [SessionEvent, SubscriptionEndReason][] = [
  [{ type: 'client.disconnect' }, 'disconnect'],
  [{ type: 'client.gone', reason: 'EOF on the request FIFO' }, 'client-gone'],
  [{ type: 'client.malformed', error: { code: 'unknown-op', message: 'unknown op code 9' } }, 'malformed'],
  [{ type: 'client.overflow' }, 'overflow'],
  [{ type: 'server.close' }, 'shutdown'],
];

for (const [event, reason] of ENDINGS) {
  test(`${event.type} ends every subscription of the session with reason ${reason}`, async (t) => {
    const { actor, queue, ended, connected } = setup(t);
    queue.offer(request(1));
    await connected();
    actor.send({ type: 'client.subscribe', key: 'a' });
    actor.send({ type: 'client.subscribe', key: 'c' });
    actor.send(event);
    await waitFor(actor, (s) => s.matches('idle') || s.status === 'done', { timeout: 60_000 });
    t.deepEqual(ended.map((e) => [e.key, e.output.reason]).sort(), [['a', reason], ['c', reason]]);
    t.is(endReason(event), reason);
  });
}

test('a DELETE moves the subscription to keyDeleted, it stays subscribed, and the next WRITE notifies and makes it active', async (t) => {
  const { actor, queue, registry, keys, connected, live, endWindow } = setup(t);
  queue.offer(request(1));
  const link = await connected();
  actor.send({ type: 'client.subscribe', key: 'a' });
  actor.send({ type: 'client.subscribe', key: 'b' });
  keys.delete('a');
  registry.onChange('a', null);
  endWindow();
  t.deepEqual(live(), { a: 'keyDeleted', b: 'active' });
  // Subscribing to a deleted key fails, as today, and the subscription stays.
  actor.send({ type: 'client.subscribe', key: 'a' });
  t.deepEqual(link.answers.at(-1), [OpCode.Subscribe, 1]);
  t.deepEqual(live(), { a: 'keyDeleted', b: 'active' });
  keys.add('a');
  registry.onChange('a', 'back');
  endWindow();
  t.deepEqual(live(), { a: 'active', b: 'active' });
  const seen = link.notifications.map((frame) => {
    const decoded = decode('notification', frame);
    return decoded.ok ? `${decoded.value.key}=${decoded.value.value}` : decoded.error.message;
  });
  t.deepEqual(seen, ['a=DELETED', 'a=back']);
});

test('the next client of the session starts with no subscription actors', async (t) => {
  const { actor, queue, links, connected, live } = setup(t);
  queue.offer(request(1));
  queue.offer(request(2));
  await connected();
  actor.send({ type: 'client.subscribe', key: 'a' });
  actor.send({ type: 'client.disconnect' });
  await waitFor(actor, (s) => s.matches('connected') && links.length === 2, { timeout: 60_000 });
  t.deepEqual(live(), {});
  t.deepEqual(Object.keys(actor.getSnapshot().children).filter((id) => id.startsWith('subscription:')), []);
});
