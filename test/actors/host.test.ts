import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type InspectionEvent, waitFor } from 'xstate';
import { ConnectQueue } from '../../actors/connect-queue.js';
import type { SessionRef, SignalSource } from '../../actors/host.js';
import { encode } from '../../protocol/frames.js';
import { openWriteEnd } from '../../runtime/os/fifo.js';
import { startHost as startHostActor } from '../../runtime/server/registration.js';
import { waitUntil } from '../helpers/processes.js';
import { connectRequest, startSession } from '../helpers/session-fixture.js';

function fakeSignals(): SignalSource & { fire(): void; count(): number } {
  const listeners = new Set<() => void>();
  return { on: (l) => void listeners.add(l), off: (l) => void listeners.delete(l), fire: () => listeners.forEach((l) => l()), count: () => listeners.size };
}

const connect = (n: number) => encode({ kind: 'connect', reqPipe: `/tmp/r${n}`, respPipe: `/tmp/s${n}`, notifPipe: `/tmp/n${n}` });

type HostOptions = { sessions?: readonly SessionRef[]; inspect?: (event: InspectionEvent) => void };

async function startHost(t: import('ava').ExecutionContext, capacity: number, options: HostOptions = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-host-'));
  const path = join(dir, 'register');
  const queue = new ConnectQueue(capacity);
  const signals = fakeSignals();
  const logs: string[] = [];
  const host = await startHostActor({ path, queue, signals, sessions: () => options.sessions ?? [], log: (l) => void logs.push(l) }, options.inspect);
  const writer = await openWriteEnd(path, AbortSignal.timeout(2000));
  t.teardown(async () => {
    writer.destroy();
    await host.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { path, queue, host, writer, signals, logs };
}

test('connect requests split and joined across writes reach the buffer whole and in order', async (t) => {
  const { queue, writer } = await startHost(t, 8);
  const bytes = Buffer.concat([connect(1), connect(2), connect(3)]);
  writer.write(bytes.subarray(0, 50));
  writer.write(bytes.subarray(50, 200));
  writer.write(bytes.subarray(200));
  await waitUntil('three requests', () => queue.length === 3);
  t.deepEqual(queue.drain().map((r) => r.reqPipe), ['/tmp/r1', '/tmp/r2', '/tmp/r3']);
});

test('a full buffer stops the reading; taking a request reads on', async (t) => {
  const { queue, writer } = await startHost(t, 2);
  for (let i = 1; i <= 5; i++) writer.write(connect(i));
  await waitUntil('a full buffer', () => queue.full);
  t.is(queue.length, 2);
  const signal = new AbortController().signal;
  const taken: string[] = [];
  for (let i = 0; i < 5; i++) {
    taken.push((await queue.take(signal)).reqPipe);
    t.true(queue.length <= 2);
  }
  t.deepEqual(taken, ['/tmp/r1', '/tmp/r2', '/tmp/r3', '/tmp/r4', '/tmp/r5']);
});

test('garbage on the registration FIFO is skipped and reported; the next request gets through', async (t) => {
  const { queue, writer, logs, host } = await startHost(t, 4);
  writer.write(Buffer.concat([Buffer.from('junk'), connect(7)]));
  await waitUntil('the request after the junk', () => queue.length === 1);
  t.is(host.malformedCount, 4);
  t.regex(logs[0]!, /malformed connect request skipped/);
});

test('the host alone listens for SIGUSR1 and sends server.reset straight to every session; it stops on close, removing its FIFO', async (t) => {
  const events: InspectionEvent[] = [];
  const inspect = (event: InspectionEvent) => void events.push(event);
  const serving = startSession(t, { inspect });
  const waiting = startSession(t, { inspect });
  serving.queue.offer(connectRequest(1));
  const link = await serving.connected();
  const { host, signals, logs, path } = await startHost(t, 4, { sessions: [serving.actor, waiting.actor], inspect });
  t.is(signals.count(), 1, 'one listener: the host, not the sessions');
  signals.fire();
  await waitFor(serving.actor, (s) => s.matches('idle') && s.context.served === 1, { timeout: 60_000 });
  t.is(link.closedWith, false, 'the connected client is ended');
  t.true(waiting.actor.getSnapshot().matches('idle'), 'an idle session stays idle');
  // Two hops: the signal is the host's event, and the host sends each session its reset.
  const hops = events.flatMap((e) => {
    if (e.type !== '@xstate.event' || !['signal.sigusr1', 'server.reset'].includes(e.event.type)) return [];
    const name = (ref: unknown) => (ref === serving.actor ? 'serving' : ref === waiting.actor ? 'waiting' : ((ref as { id?: string } | undefined)?.id ?? 'outside'));
    return [`${name(e.sourceRef)} -> ${name(e.actorRef)}: ${e.event.type}`];
  });
  t.deepEqual(hops, ['readRequests -> host: signal.sigusr1', 'host -> serving: server.reset', 'host -> waiting: server.reset']);
  t.deepEqual(logs, ['SIGUSR1: ended 1 client session(s); accepting new clients']);
  await host.close();
  await host.close();
  t.is(signals.count(), 0);
  t.false(existsSync(path));
});
