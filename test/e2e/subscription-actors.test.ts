/**
 * Subscription actors as the Stately inspector sees them: a real server run with `--inspect` to
 * the real relay, a real client (`node runtime/client.js`) on real FIFOs, jobs that DELETE and
 * re-create a key, and SIGUSR1. Everything started is stopped in t.teardown.
 */
import test from 'ava';
import { type InspectorMessage, startRelay } from '../helpers/inspector-relay.js';
import { ask, startClient, startServer, waitUntilSeen, writeJob } from '../helpers/processes.js';

type Snapshot = NonNullable<InspectorMessage['snapshot']>;

/** The subscription actors registered so far, with their parent and every snapshot of each. */
function subscriptionActors(messages: readonly InspectorMessage[]) {
  const found = new Map<string, { name: string; parentId: string | undefined; snapshots: Snapshot[] }>();
  for (const message of messages) {
    if (message.type === '@xstate.actor' && message.name?.startsWith('subscription:') === true) {
      found.set(message.sessionId, { name: message.name, parentId: message.parentId, snapshots: [] });
    }
    if (message.type === '@xstate.snapshot' && message.snapshot !== undefined) found.get(message.sessionId)?.snapshots.push(message.snapshot);
  }
  return [...found.values()];
}

function describe(messages: readonly InspectorMessage[]): string {
  return JSON.stringify(subscriptionActors(messages).map((actor) => [actor.name, actor.snapshots.map((s) => `${String(s.value)}/${s.status}`)]));
}

const reasonOf = (snapshot: Snapshot) => (snapshot.context as { reason?: unknown } | undefined)?.reason;
const keyOf = (snapshot: Snapshot) => (snapshot.context as { key?: unknown } | undefined)?.key;

test('the inspector shows each subscription start under its session with its key, follow its DELETE, and end with its reason', async (t) => {
  const relay = await startRelay(t);
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(a,1)(b,2)]\n' }, args: [`--inspect=${relay.url}`] });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE a', 'subscribe'), '0');
  t.is(await ask(client, 'SUBSCRIBE b', 'subscribe'), '0');
  // Subscribing twice is one subscription: no second actor.
  t.is(await ask(client, 'SUBSCRIBE a', 'subscribe'), '0');

  const started = (messages: readonly InspectorMessage[]) => subscriptionActors(messages).filter((actor) => actor.snapshots.some((s) => s.value === 'active'));
  await relay.waitFor((messages) => started(messages).length >= 2).catch((error: Error) => t.fail(`${error.message}: ${describe(relay.messages)}`));

  // Each is a child of the session the client's SUBSCRIBE reached, and carries its key.
  const subscribedIn = relay.messages.find((message) => message.type === '@xstate.event' && message.event?.type === 'client.subscribe')!.sessionId;
  const session = relay.messages.find((message) => message.type === '@xstate.actor' && message.sessionId === subscribedIn)!;
  t.regex(session.name!, /^session-\d$/);
  const actors = subscriptionActors(relay.messages);
  t.deepEqual(actors.map((actor) => actor.name).sort(), ['subscription:a', 'subscription:b']);
  for (const actor of actors) {
    t.is(actor.parentId, session.sessionId, actor.name);
    t.is(keyOf(actor.snapshots[0]!), actor.name.slice('subscription:'.length));
  }

  // A DELETE of a: the client is told, and the subscription moves to keyDeleted; a WRITE makes it active again.
  await writeJob(server.dir, 'delete.job', 'DELETE [a]\n');
  await client.waitForOutput('(a,DELETED)');
  const statesOfA = () => subscriptionActors(relay.messages).find((actor) => actor.name === 'subscription:a')?.snapshots.map((s) => s.value) ?? [];
  await waitUntilSeen('subscription:a in keyDeleted', () => ({ ok: statesOfA().includes('keyDeleted'), seen: describe(relay.messages) }));
  await writeJob(server.dir, 'write.job', 'WRITE [(a,3)]\n');
  await client.waitForOutput('(a,3)');
  await waitUntilSeen('subscription:a active again', () => ({ ok: statesOfA().lastIndexOf('active') > statesOfA().indexOf('keyDeleted'), seen: describe(relay.messages) }));

  // UNSUBSCRIBE ends b alone, with its reason.
  t.is(await ask(client, 'UNSUBSCRIBE b', 'unsubscribe'), '0');
  const ended = (name: string) => subscriptionActors(relay.messages).find((actor) => actor.name === name)?.snapshots.find((s) => s.status === 'done');
  await waitUntilSeen('subscription:b to end', () => ({ ok: ended('subscription:b') !== undefined, seen: describe(relay.messages) }));
  t.is(reasonOf(ended('subscription:b')!), 'unsubscribe');
  t.is(ended('subscription:b')!.value, 'ended');
  t.is(ended('subscription:a'), undefined);

  // SIGUSR1 ends the rest, with reason reset; the client sees its session end.
  server.child.kill('SIGUSR1');
  await waitUntilSeen('subscription:a to end', () => ({ ok: ended('subscription:a') !== undefined, seen: describe(relay.messages) }));
  t.is(reasonOf(ended('subscription:a')!), 'reset');
  t.not(await client.waitForExit(), 0);
  t.is(subscriptionActors(relay.messages).length, 2, describe(relay.messages));
});

test('a client that goes away ends its subscriptions with reason client-gone; DISCONNECT with reason disconnect', async (t) => {
  const relay = await startRelay(t);
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(x,1)(y,2)]\n' }, args: [`--inspect=${relay.url}`] });
  const leaving = await startClient(t, server.fifo);
  t.is(await ask(leaving, 'SUBSCRIBE x', 'subscribe'), '0');
  const polite = await startClient(t, server.fifo);
  t.is(await ask(polite, 'SUBSCRIBE y', 'subscribe'), '0');

  leaving.child.kill('SIGKILL');
  t.is(await ask(polite, 'DISCONNECT', 'disconnect'), '0');
  const reasons = () =>
    Object.fromEntries(
      subscriptionActors(relay.messages).flatMap((actor) => {
        const done = actor.snapshots.find((s) => s.status === 'done');
        return done === undefined ? [] : [[actor.name, reasonOf(done)]];
      }),
    );
  await waitUntilSeen('both subscriptions to end', () => ({ ok: Object.keys(reasons()).length === 2, seen: describe(relay.messages) }));
  t.deepEqual(reasons(), { 'subscription:x': 'client-gone', 'subscription:y': 'disconnect' });
});
