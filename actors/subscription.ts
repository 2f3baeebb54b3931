/**
 * A subscription actor: one per (session, key), spawned by its session when a SUBSCRIBE succeeds
 * and ended by it, with the reason, on UNSUBSCRIBE or when the session ends (DISCONNECT, the client
 * gone, malformed input, a client that stops reading, SIGUSR1, shutdown).
 *
 * It shows where the subscription is in its life: `active` while its key exists, `keyDeleted` once
 * the key was deleted (the subscription stays: a later WRITE re-creates the key, notifies, and it is
 * `active` again), `ended` with its reason. Notifications do not pass through it: the registry
 * writes every change straight to the client's notification writer. It hears only of deletes and
 * re-creates of its key, never of a WRITE of a key that exists, and at most once per short window
 * (where the key ended up; subscription-registry.ts): its state may lag by that window, notifications never do.
 *
 * A session holds its subscriptions in a `SubscriptionActors`, not as its children: xstate copies
 * a parent's children at every spawn and stop, so 20,000 SUBSCRIBEs as children took the main
 * thread for seconds. Each is still an actor of the session's system with the session as its
 * parent, so the inspector shows it under its session.
 *
 * A subscription is one actor, not two: it watches its key itself (entry action `watchKey`: the
 * registry sends `key.deleted` / `key.created` straight to the actor's `send`) and lets go of the
 * watch when it ends (`unwatchKey`, on entering `ended`). It used to invoke a callback actor for the
 * watch: two actors per SUBSCRIBE, ~4.5 KB kept per subscription (~2.3 KB now) that V8's young
 * generation copies, and twice the CPU (`npm run bench:subscribe`: docs/performance.md).
 */
import { type ActorRefFrom, type AnyActorRef, assign, createActor, setup } from 'xstate';

/** What a subscription needs of the registry: word of its key's deletes and re-creates. */
export interface KeyWatch {
  /** Calls `watcher` with `key.deleted` after `key` is deleted, and `key.created` after it is written again. */
  watch(key: string, watcher: KeyWatcher): void;
  /** Stops calling `watcher` for `key`; idempotent. */
  unwatch(key: string, watcher: KeyWatcher): void;
}

export type SubscriptionEndReason = 'unsubscribe' | 'disconnect' | 'client-gone' | 'malformed' | 'overflow' | 'reset' | 'shutdown';

export type SubscriptionInput = {
  key: string;
  /** The session's number, for logs and the inspector. */
  session: number;
  keys: KeyWatch;
};

export type SubscriptionContext = SubscriptionInput & {
  reason: SubscriptionEndReason | null;
};

export type SubscriptionEvent =
  | { type: 'key.deleted' }
  | { type: 'key.created' }
  | { type: 'subscription.end'; reason: SubscriptionEndReason };

export type SubscriptionOutput = { key: string; reason: SubscriptionEndReason };

/** What the registry tells a watcher of a key: the key was deleted, or written again after that. */
export type KeyEvent = Extract<SubscriptionEvent, { type: 'key.deleted' | 'key.created' }>;

/** A watcher of a key: a subscription's own `send`. */
export type KeyWatcher = (event: KeyEvent) => void;

/** The id a session gives the subscription of `key`: one per key, so subscribing twice is one. */
export function subscriptionId(key: string): string {
  return `subscription:${key}`;
}

export const subscriptionMachine = setup({
  types: {
    input: {} as SubscriptionInput,
    context: {} as SubscriptionContext,
    events: {} as SubscriptionEvent,
    output: {} as SubscriptionOutput,
  },
  actions: {
    /**
     * The registry sends the key's deletes and re-creates to this actor: its watcher is the
     * actor's own `send` (bound to it by xstate, the same function for the actor's life), so a
     * watch costs no closure, and `unwatchKey` finds it again by the same two values.
     */
    watchKey: ({ context, self }) => context.keys.watch(context.key, self.send),
    /** On entering `ended`: a session ends every subscription it starts that way, never by `stop()`. */
    unwatchKey: ({ context, self }) => context.keys.unwatch(context.key, self.send),
    recordReason: assign({ reason: ({ event }) => (event.type === 'subscription.end' ? event.reason : null) }),
  },
}).createMachine({
  id: 'subscription',
  context: ({ input }) => ({ ...input, reason: null }),
  // A SUBSCRIBE succeeds only for a key that exists.
  initial: 'active',
  // For its whole life, until `ended` lets go of it.
  entry: 'watchKey',
  on: { 'subscription.end': { target: '.ended', actions: 'recordReason' } },
  states: {
    active: { on: { 'key.deleted': 'keyDeleted' } },
    // Still subscribed: the next WRITE of the key notifies, as before the DELETE.
    keyDeleted: { on: { 'key.created': 'active' } },
    ended: { type: 'final', entry: 'unwatchKey' },
  },
  output: ({ context }) => ({ key: context.key, reason: context.reason ?? 'shutdown' }),
});

export type SubscriptionActor = ActorRefFrom<typeof subscriptionMachine>;

/**
 * Past this many, the subscriptions a session ends at once are ended a slice per turn of the event
 * loop, so that ending 20,000 does not hold the main thread from the other clients. Their
 * notifications stop at once (the session removes them from the registry first): only their
 * actors' end lags.
 */
export const END_SLICE = 128;

/**
 * A session's subscription actors, key -> actor. Changed in place, never copied: one SUBSCRIBE is
 * one insert, one UNSUBSCRIBE one delete. Iterates over the keys.
 */
export class SubscriptionActors implements Iterable<string> {
  private readonly actors = new Map<string, SubscriptionActor>();

  constructor(private readonly machine: typeof subscriptionMachine = subscriptionMachine) {}

  get size(): number {
    return this.actors.size;
  }

  has(key: string): boolean {
    return this.actors.has(key);
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.actors.keys();
  }

  /** The live subscription actors, for tests and observers. */
  values(): IterableIterator<SubscriptionActor> {
    return this.actors.values();
  }

  /** Starts the subscription of `key` under `session` (a no-op when there is one). */
  start(session: AnyActorRef, input: SubscriptionInput): void {
    if (this.actors.has(input.key)) return;
    const actor = createActor(this.machine, { parent: session, id: subscriptionId(input.key), input });
    this.actors.set(input.key, actor);
    actor.start();
  }

  /** Ends the subscription of `key` with `reason`; false when there is none. */
  end(key: string, reason: SubscriptionEndReason): boolean {
    const actor = this.actors.get(key);
    if (actor === undefined) return false;
    this.actors.delete(key);
    endActor(actor, reason);
    return true;
  }

  /** Ends every subscription with `reason`: at once up to END_SLICE, else a slice per turn. */
  endAll(reason: SubscriptionEndReason): void {
    const ending = [...this.actors.values()];
    this.actors.clear();
    const endSlice = (from: number) => {
      const to = Math.min(ending.length, from + END_SLICE);
      for (let i = from; i < to; i++) endActor(ending[i]!, reason);
      if (to < ending.length) setImmediate(endSlice, to);
    };
    endSlice(0);
  }

}

/** Its final state stops its watch, and the actor leaves the system. */
function endActor(actor: SubscriptionActor, reason: SubscriptionEndReason): void {
  actor.send({ type: 'subscription.end', reason });
}
