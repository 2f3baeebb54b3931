/**
 * A session whose client is answered but never completes the handshake (it died, or never opens
 * its request and notification FIFOs) closes the link it opened and goes on to the next client.
 * The fake link has no subscriber before `ready()` resolves, as the real one: a session that asked
 * it for one on the way out failed instead, and its client's FIFOs stayed open in the server.
 */
import test, { type ExecutionContext } from 'ava';
import { waitFor } from 'xstate';
import { OpCode } from '../../protocol/frames.js';
import { connectRequest as request, startSession } from '../helpers/session-fixture.js';

const WAIT = { timeout: 60_000 };

/** The handshake of a client that never opens its other FIFOs: it ends only when the session gives up. */
function never(signal: AbortSignal): Promise<void> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
}

/** The handshake deadline passing. */
async function deadline(): Promise<void> {
  throw new Error('the client did not open its request and notification FIFOs within 1000 ms of the answer');
}

/** Clients in order: `joins[i]` is the handshake of the i-th client's link (a whole one past the end). */
function setup(t: ExecutionContext, joins: Array<(signal: AbortSignal) => Promise<void>>) {
  return startSession(t, { joins, keys: ['k'] });
}

test('a client answered that misses the handshake deadline has its link closed; the next client is served', async (t) => {
  const { actor, queue, registry, links, logs } = setup(t, [deadline]);
  queue.offer(request(1));
  await waitFor(actor, (s) => s.context.served === 1 && s.matches('idle'), WAIT);
  t.is(actor.getSnapshot().status, 'active');
  t.deepEqual(links[0]!.answers, [[OpCode.Connect, 0]]);
  t.is(links[0]!.closedWith, false);
  t.regex(logs.join('\n'), /did not open its request and notification FIFOs/);

  queue.offer(request(2));
  await waitFor(actor, (s) => s.matches('connected'), WAIT);
  actor.send({ type: 'client.subscribe', key: 'k' });
  t.deepEqual(links[1]!.answers, [[OpCode.Connect, 0], [OpCode.Subscribe, 0]]);
  t.is(registry.subscribersOf('k'), 1);
});

test('SIGUSR1 during the handshake closes the link and the session serves the next client', async (t) => {
  const { actor, queue, links } = setup(t, [never]);
  queue.offer(request(1));
  await waitFor(actor, (s) => s.matches('joining'), WAIT);
  actor.send({ type: 'server.reset' });
  await waitFor(actor, (s) => s.context.served === 1 && s.matches('idle'), WAIT);
  t.is(actor.getSnapshot().status, 'active');
  t.is(links[0]!.closedWith, false);
  queue.offer(request(2));
  await waitFor(actor, (s) => s.matches('connected'), WAIT);
  t.is(links.length, 2);
});

test('shutdown during the handshake closes the link and the session stops', async (t) => {
  const { actor, queue, links } = setup(t, [never]);
  queue.offer(request(1));
  await waitFor(actor, (s) => s.matches('joining'), WAIT);
  actor.send({ type: 'server.close' });
  await waitFor(actor, (s) => s.status !== 'active', WAIT);
  t.is(actor.getSnapshot().status, 'done');
  t.is(links[0]!.closedWith, false);
});
