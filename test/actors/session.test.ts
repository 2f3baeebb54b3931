import test from 'ava';
import { waitFor } from 'xstate';
import { subscribeResult } from '../../actors/session.js';
import { OpCode } from '../../protocol/frames.js';
import { waitUntilSeen } from '../helpers/processes.js';
import { connectRequest as request, startSession as setup } from '../helpers/session-fixture.js';

test('a session takes a request, answers connect, and SUBSCRIBE of an existing key registers it', async (t) => {
  const { actor, queue, registry, connected } = setup(t);
  t.true(actor.getSnapshot().matches('idle'));
  queue.offer(request(1));
  const link = await connected();
  t.deepEqual(link.answers, [[OpCode.Connect, 0]]);
  actor.send({ type: 'client.subscribe', key: 'k' });
  t.deepEqual(link.answers.at(-1), [OpCode.Subscribe, 0]);
  t.is(registry.subscribersOf('k'), 1);
  t.deepEqual([...actor.getSnapshot().context.subscriptions], ['k']);
});

test('SUBSCRIBE of a missing key answers 1 (seed) and registers nothing', async (t) => {
  const { actor, queue, registry, connected } = setup(t);
  queue.offer(request(1));
  const link = await connected();
  actor.send({ type: 'client.subscribe', key: 'ghost' });
  t.deepEqual(link.answers.at(-1), [OpCode.Subscribe, 1]);
  t.is(registry.keyCount, 0);
});

test('--compat=course flips the SUBSCRIBE result codes', async (t) => {
  const { actor, queue, connected } = setup(t, { compat: 'course' });
  queue.offer(request(1));
  const link = await connected();
  actor.send({ type: 'client.subscribe', key: 'k' });
  actor.send({ type: 'client.subscribe', key: 'ghost' });
  t.deepEqual(link.answers.slice(1), [[OpCode.Subscribe, 1], [OpCode.Subscribe, 0]]);
  t.is(subscribeResult('seed', true), 0);
  t.is(subscribeResult('course', true), 1);
});

test('subscribing twice is one subscription; UNSUBSCRIBE answers 0 once, then 1', async (t) => {
  const { actor, queue, registry, connected } = setup(t);
  queue.offer(request(1));
  const link = await connected();
  actor.send({ type: 'client.subscribe', key: 'k' });
  actor.send({ type: 'client.subscribe', key: 'k' });
  t.is(registry.subscribersOf('k'), 1);
  actor.send({ type: 'client.unsubscribe', key: 'k' });
  actor.send({ type: 'client.unsubscribe', key: 'k' });
  t.deepEqual(link.answers.slice(3), [[OpCode.Unsubscribe, 0], [OpCode.Unsubscribe, 1]]);
  t.is(registry.keyCount, 0);
});

test('a session holds more than 1,024 subscriptions (the cap is gone): every new key answered 0, each with its actor, and all end with the client', async (t) => {
  const count = 5000;
  const keys = Array.from({ length: count }, (_, i) => `k${i}`);
  const { actor, queue, registry, connected } = setup(t, { keys });
  queue.offer(request(1));
  queue.offer(request(2));
  const link = await connected();
  for (const key of keys) actor.send({ type: 'client.subscribe', key });
  t.is(registry.keyCount, count);
  t.is(link.answers.length, 1 + count);
  t.true(link.answers.slice(1).every(([op, result]) => op === OpCode.Subscribe && result === 0));
  const { subscriptions } = actor.getSnapshot().context;
  t.is(subscriptions.size, count);
  t.is([...subscriptions.values()].filter((s) => s.getSnapshot().status === 'active').length, count);
  // None of them is a child of the session: no copy of them at each spawn.
  t.deepEqual(Object.keys(actor.getSnapshot().children).filter((id) => id.startsWith('subscription:')), []);
  // A held key is still one subscription; UNSUBSCRIBE ends one.
  actor.send({ type: 'client.subscribe', key: 'k0' });
  t.is(subscriptions.size, count);
  actor.send({ type: 'client.unsubscribe', key: 'k0' });
  t.deepEqual(link.answers.slice(-2), [[OpCode.Subscribe, 0], [OpCode.Unsubscribe, 0]]);
  t.is(registry.keyCount, count - 1);
  const held = [...subscriptions.values()];
  // The next client starts with none, and every actor of the last one ends (a slice per turn).
  actor.send({ type: 'client.disconnect' });
  const next = await waitFor(actor, (s) => s.matches('connected') && s.context.link !== link, { timeout: 60_000 });
  t.is(next.context.subscriptions.size, 0);
  t.is(registry.keyCount, 0);
  await waitUntilSeen('every subscription actor of the first client to end', () => {
    const live = held.filter((s) => s.getSnapshot().status === 'active').length;
    return { ok: live === 0, seen: `${live} of ${held.length} still active` };
  });
  t.true(held.every((s) => s.getSnapshot().status === 'done' && s.getSnapshot().context.reason === 'disconnect'));
});

test('DISCONNECT answers 0, closes gracefully, drops the subscriptions and serves the next request', async (t) => {
  const { actor, queue, registry, links, connected } = setup(t);
  queue.offer(request(1));
  queue.offer(request(2));
  const first = await connected();
  actor.send({ type: 'client.subscribe', key: 'k' });
  actor.send({ type: 'client.disconnect' });
  t.deepEqual(first.answers.at(-1), [OpCode.Disconnect, 0]);
  await waitFor(actor, (s) => s.matches('connected') && links.length === 2, { timeout: 60_000 });
  t.is(first.closedWith, true);
  t.is(registry.keyCount, 0);
  t.is(links[1]!.name, '/tmp/req2');
  t.is(actor.getSnapshot().context.served, 1);
});

for (const event of [{ type: 'client.gone', reason: 'EOF' }, { type: 'client.overflow' }, { type: 'server.reset' }] as const) {
  test(`${event.type} ends the session at once, without a flush, and removes its subscriptions`, async (t) => {
    const { actor, queue, registry, connected } = setup(t);
    queue.offer(request(1));
    const link = await connected();
    actor.send({ type: 'client.subscribe', key: 'z' });
    actor.send(event);
    await waitFor(actor, (s) => s.matches('idle'), { timeout: 60_000 });
    t.is(link.closedWith, false);
    t.is(registry.keyCount, 0);
  });
}

test('a malformed SUBSCRIBE is answered with the failure code, then the session ends', async (t) => {
  const { actor, queue, logs, connected } = setup(t);
  queue.offer(request(1));
  const link = await connected();
  actor.send({ type: 'client.malformed', error: { code: 'bad-string', message: 'key not NUL-terminated', op: OpCode.Subscribe } });
  await waitFor(actor, (s) => s.matches('idle'), { timeout: 60_000 });
  t.deepEqual(link.answers.at(-1), [OpCode.Subscribe, 1]);
  t.regex(logs.join('\n'), /malformed request: key not NUL-terminated/);
});

test('requests from the link arrive as events through the serving callback actor', async (t) => {
  const { queue, registry, connected } = setup(t);
  queue.offer(request(1));
  const link = await connected();
  link.handlers?.request({ kind: 'subscribe', key: 'k' });
  t.is(registry.subscribersOf('k'), 1);
  t.deepEqual(link.answers.at(-1), [OpCode.Subscribe, 0]);
});

test('a client whose FIFOs cannot be opened is logged and the session waits for the next', async (t) => {
  const { actor, queue, logs } = setup(t, { failOpen: true });
  queue.offer(request(1));
  await waitFor(actor, (s) => s.matches('idle') && logs.length === 1, { timeout: 60_000 });
  t.regex(logs[0]!, /session 0 \(\/tmp\/req1\): cannot open the client's FIFOs: \/tmp\/resp1: is not a FIFO/);
});

test('server.close stops a connected session with its link closed at once', async (t) => {
  const { actor, queue, registry, connected } = setup(t);
  queue.offer(request(1));
  const link = await connected();
  actor.send({ type: 'client.subscribe', key: 'k' });
  actor.send({ type: 'server.close' });
  await waitFor(actor, (s) => s.status === 'done', { timeout: 60_000 });
  t.is(link.closedWith, false);
  t.is(registry.keyCount, 0);
});

test('server.close stops an idle session waiting for a request', async (t) => {
  const { actor, queue } = setup(t);
  actor.send({ type: 'server.close' });
  await waitFor(actor, (s) => s.status === 'done', { timeout: 60_000 });
  queue.offer(request(1));
  t.is(queue.length, 1);
});
