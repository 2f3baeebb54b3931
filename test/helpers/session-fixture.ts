/**
 * A session actor on fakes (a FakeLink per client, a store of the given keys, a real registry),
 * for the session tests: stopped when the test ends, whatever its state.
 */
import type { ExecutionContext } from 'ava';
import { type InspectionEvent, createActor, fromPromise, waitFor } from 'xstate';
import { ConnectQueue } from '../../actors/connect-queue.js';
import { type OpenLinkInput, sessionMachine } from '../../actors/session.js';
import { SubscriptionRegistry } from '../../actors/subscription-registry.js';
import type { ConnectFrame } from '../../protocol/frames.js';
import type { Compat } from '../../protocol/compat.js';
import type { SessionLink } from '../../protocol/session-link.js';
import { FakeLink } from './fake-link.js';

/** The n-th client's connect request. */
export function connectRequest(n: number): ConnectFrame {
  return { kind: 'connect', reqPipe: `/tmp/req${n}`, respPipe: `/tmp/resp${n}`, notifPipe: `/tmp/notif${n}` };
}

export interface SessionFixtureOptions {
  readonly compat?: Compat;
  /** Every client's FIFOs fail to open. */
  readonly failOpen?: boolean;
  /** The keys the store holds (default k and z). */
  readonly keys?: Iterable<string>;
  readonly registry?: SubscriptionRegistry;
  /** `joins[i]`: the handshake of the i-th client's link (a whole one past the end). */
  readonly joins?: ReadonlyArray<(signal: AbortSignal) => Promise<void>>;
  readonly inspect?: (event: InspectionEvent) => void;
}

export function startSession(t: ExecutionContext, options: SessionFixtureOptions = {}) {
  const queue = new ConnectQueue(4);
  const registry = options.registry ?? new SubscriptionRegistry();
  const keys = new Set(options.keys ?? ['k', 'z']);
  const links: FakeLink[] = [];
  const logs: string[] = [];
  const machine = sessionMachine.provide({
    actors: {
      openLink: fromPromise<SessionLink, OpenLinkInput>(async ({ input }) => {
        if (options.failOpen === true) throw new Error(`${input.request.respPipe}: is not a FIFO`);
        const link = new FakeLink(input.request.reqPipe, options.joins?.[links.length]);
        links.push(link);
        return link;
      }),
    },
  });
  const actor = createActor(machine, {
    input: {
      id: 0,
      queue,
      registry,
      store: { has: (key: string) => keys.has(key) },
      compat: options.compat ?? 'seed',
      handshakeMs: 1000,
      notifyLimits: { capBytes: 1 << 20, stallBytes: 1 << 16, stallMs: 1000 },
      log: (line: string) => void logs.push(line),
    },
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  }).start();
  t.teardown(() => actor.stop());
  /** Resolves with the link of the client the session serves once it is connected. */
  const connected = async () => {
    await waitFor(actor, (s) => s.matches('connected'), { timeout: 60_000 });
    return links.at(-1)!;
  };
  return { actor, queue, registry, keys, links, logs, connected };
}
