/**
 * The subscription machine alone, on the real registry: its states follow its key's DELETE and
 * re-creation (not every WRITE; told once per window, which the tests end by hand), and it ends
 * with each reason a session can give, letting go of its watch.
 */
import test from 'ava';
import { createActor, waitFor } from 'xstate';
import { type SubscriptionEndReason, subscriptionId, subscriptionMachine } from '../../actors/subscription.js';
import { SubscriptionRegistry, type WatchSchedule } from '../../actors/subscription-registry.js';

/** A registry whose watch window ends when the test calls `end()`. */
function windowed(): { registry: SubscriptionRegistry; end: () => void } {
  let pending: (() => void) | null = null;
  const schedule: WatchSchedule = (tell) => {
    pending = tell;
    return () => (pending = null);
  };
  const end = () => {
    const tell = pending;
    pending = null;
    tell?.();
  };
  return { registry: new SubscriptionRegistry(schedule), end };
}

const REASONS: readonly SubscriptionEndReason[] = ['unsubscribe', 'disconnect', 'client-gone', 'malformed', 'overflow', 'reset', 'shutdown'];

function start(windowedRegistry = windowed(), key = 'k') {
  const { registry, end } = windowedRegistry;
  const events: string[] = [];
  const actor = createActor(subscriptionMachine, {
    input: { key, session: 3, keys: registry },
    inspect: (event) => {
      if (event.type === '@xstate.event' && event.actorRef === actor) events.push(event.event.type);
    },
  });
  actor.start();
  return { actor, registry, events, end };
}

test('a subscription starts active, with its key and session in its context', (t) => {
  const { actor } = start();
  t.teardown(() => actor.stop());
  const snapshot = actor.getSnapshot();
  t.is(snapshot.value, 'active');
  t.is(snapshot.context.key, 'k');
  t.is(snapshot.context.session, 3);
  t.is(snapshot.context.reason, null);
});

for (const reason of REASONS) {
  test(`subscription.end with reason ${reason} ends it in 'ended' with that reason, and stops its watch`, (t) => {
    const { actor, registry } = start();
    t.teardown(() => actor.stop());
    t.is(registry.watchersOf('k'), 1);
    actor.send({ type: 'subscription.end', reason });
    const snapshot = actor.getSnapshot();
    t.is(snapshot.status, 'done');
    t.is(snapshot.value, 'ended');
    t.deepEqual(snapshot.output, { key: 'k', reason });
    t.is(registry.watchersOf('k'), 0);
  });
}

test('a subscription whose key was deleted ends with its reason too', async (t) => {
  const { actor, registry, end } = start();
  t.teardown(() => actor.stop());
  registry.onChange('k', null);
  end();
  t.is(actor.getSnapshot().value, 'keyDeleted');
  actor.send({ type: 'subscription.end', reason: 'reset' });
  t.deepEqual(actor.getSnapshot().output, { key: 'k', reason: 'reset' });
  t.is(registry.watchersOf('k'), 0);
});

test('a DELETE of its key moves it to keyDeleted; the WRITE that re-creates the key makes it active again', async (t) => {
  const { actor, registry, events, end } = start();
  t.teardown(() => actor.stop());
  registry.onChange('k', '1');
  end();
  t.is(actor.getSnapshot().value, 'active');
  registry.onChange('k', null);
  // Not at once: when the window ends.
  t.is(actor.getSnapshot().value, 'active');
  end();
  t.is(actor.getSnapshot().value, 'keyDeleted');
  registry.onChange('k', null);
  end();
  registry.onChange('k', '2');
  end();
  t.is(actor.getSnapshot().value, 'active');
  registry.onChange('k', null);
  end();
  t.is(actor.getSnapshot().value, 'keyDeleted');
  t.deepEqual(events.filter((type) => type.startsWith('key.')), ['key.deleted', 'key.created', 'key.deleted']);
});

test('WRITEs of an existing key and changes of other keys send it no event', async (t) => {
  const { actor, registry, events, end } = start();
  t.teardown(() => actor.stop());
  for (let i = 0; i < 100; i++) registry.onChange('k', String(i));
  registry.onChange('other', null);
  registry.onChange('other', 'v');
  end();
  t.deepEqual(events.filter((type) => type.startsWith('key.')), []);
  t.is(actor.getSnapshot().value, 'active');
});

test('a window in which its key is deleted and re-created many times costs it one event at most: where the key ended up', async (t) => {
  const { actor, registry, events, end } = start();
  t.teardown(() => actor.stop());
  for (let i = 0; i < 1000; i++) {
    registry.onChange('k', null);
    registry.onChange('k', String(i));
  }
  end();
  t.deepEqual(events.filter((type) => type.startsWith('key.')), []);
  t.is(actor.getSnapshot().value, 'active');
  for (let i = 0; i < 1000; i++) {
    registry.onChange('k', String(i));
    registry.onChange('k', null);
  }
  end();
  t.deepEqual(events.filter((type) => type.startsWith('key.')), ['key.deleted']);
  t.is(actor.getSnapshot().value, 'keyDeleted');
});

test('every subscription of a key hears of its DELETE, and one ending does not stop the others hearing', async (t) => {
  const shared = windowed();
  const { registry, end } = shared;
  const a = start(shared).actor;
  const b = start(shared).actor;
  t.teardown(() => (a.stop(), b.stop()));
  registry.onChange('k', null);
  end();
  t.is(a.getSnapshot().value, 'keyDeleted');
  t.is(b.getSnapshot().value, 'keyDeleted');
  a.send({ type: 'subscription.end', reason: 'unsubscribe' });
  registry.onChange('k', 'back');
  end();
  t.is(b.getSnapshot().value, 'active');
  t.is(registry.watchersOf('k'), 1);
});

test('after the last watcher of a deleted key goes, a new one is told of the next DELETE', async (t) => {
  const shared = windowed();
  const { registry, end } = shared;
  const first = start(shared).actor;
  registry.onChange('k', null);
  end();
  first.send({ type: 'subscription.end', reason: 'unsubscribe' });
  registry.onChange('k', 'again');
  end();
  const second = start(shared).actor;
  t.teardown(() => second.stop());
  registry.onChange('k', null);
  end();
  t.is(second.getSnapshot().value, 'keyDeleted');
});

test('each key has its own subscription id', (t) => {
  t.is(subscriptionId('k'), 'subscription:k');
  t.not(subscriptionId('a'), subscriptionId('b'));
});

test('with the default window, a DELETE reaches the subscription by itself, shortly after', async (t) => {
  const registry = new SubscriptionRegistry();
  const { actor } = start({ registry, end: () => {} });
  t.teardown(() => actor.stop());
  registry.onChange('k', null);
  await waitFor(actor, (snapshot) => snapshot.value === 'keyDeleted', { timeout: 60_000 });
  t.pass();
});

test('clear() cancels a window in progress: nobody is told afterwards', (t) => {
  const { registry, end } = windowed();
  const told: string[] = [];
  registry.watch('k', (event) => told.push(event.type));
  registry.onChange('k', null);
  registry.clear();
  end();
  t.deepEqual(told, []);
});
