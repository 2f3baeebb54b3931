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
 * (where the key ended up; subscriptions.ts): its state may lag by that window, notifications never do.
 */
import { assign, fromCallback, setup } from 'xstate';

export type KeyChange = 'deleted' | 'created';

/** What a subscription needs of the registry: word of its key's deletes and re-creates. */
export interface KeyWatch {
  /** Calls `onChange` after `key` is deleted, and after it is written again; returns the way to stop. */
  watch(key: string, onChange: (change: KeyChange) => void): () => void;
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
  actors: {
    watchKey: fromCallback<SubscriptionEvent, { key: string; keys: KeyWatch }>(({ input, sendBack }) =>
      input.keys.watch(input.key, (change) => sendBack({ type: change === 'deleted' ? 'key.deleted' : 'key.created' })),
    ),
  },
  actions: {
    recordReason: assign({ reason: ({ event }) => (event.type === 'subscription.end' ? event.reason : null) }),
  },
}).createMachine({
  id: 'subscription',
  context: ({ input }) => ({ ...input, reason: null }),
  // A SUBSCRIBE succeeds only for a key that exists.
  initial: 'active',
  // Stopped when the machine ends, which stops the watch.
  invoke: { id: 'watchKey', src: 'watchKey', input: ({ context }) => ({ key: context.key, keys: context.keys }) },
  on: { 'subscription.end': { target: '.ended', actions: 'recordReason' } },
  states: {
    active: { on: { 'key.deleted': 'keyDeleted' } },
    // Still subscribed: the next WRITE of the key notifies, as before the DELETE.
    keyDeleted: { on: { 'key.created': 'active' } },
    ended: { type: 'final' },
  },
  output: ({ context }) => ({ key: context.key, reason: context.reason ?? 'shutdown' }),
});
