/**
 * A session actor: serves one client at a time, then the next. It takes the oldest connect
 * request from the buffer, opens the client's response FIFO and answers connect (`opening`), waits
 * for the client to open its request and notification FIFOs (`joining`), serves SUBSCRIBE,
 * UNSUBSCRIBE and DISCONNECT, and ends on DISCONNECT, EOF, EPIPE, malformed input, a client that
 * stops reading its notifications, or SIGUSR1 (`server.reset`). Ending removes its subscriptions.
 * Each subscription is an actor (subscription.ts) of the session's system, started by a successful
 * SUBSCRIBE and ended, with its reason, by UNSUBSCRIBE or by the end of the session; the session
 * holds them in a SubscriptionActors, not as children (so there is no cap: see subscription.ts).
 * Notifications do not pass through the machine: the registry writes them straight to the
 * client's notification writer (an XState event per notification would cost ~2.5 µs each).
 *
 * Opening the client's FIFOs is I/O: the machine names it (`openLink`) and runtime/server/server.ts
 * supplies it (`sessionMachine.provide`), as the tests supply fakes.
 */
import { assign, fromCallback, fromPromise, setup } from 'xstate';
import { type ConnectFrame, type DecodeError, OpCode, RESULT_ERROR, RESULT_OK } from '../protocol/frames.js';
import type { Compat } from '../protocol/compat.js';
import { display } from '../protocol/keys.js';
import { errorMessage } from '../protocol/guards.js';
import { type SessionLink, isRefusal } from '../protocol/session-link.js';
import { notProvided } from './not-provided.js';
import type { NotificationLimits } from '../protocol/notification-limits.js';
import type { ConnectQueue } from './connect-queue.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import { type SubscriptionEndReason, SubscriptionActors, subscriptionMachine } from './subscription.js';

export type SessionInput = {
  id: number;
  queue: ConnectQueue;
  registry: SubscriptionRegistry;
  /** SUBSCRIBE's "does the key exist" (protocol/store-contract.ts's KvStore fits; with Redis it asks Redis). */
  store: { has(key: string): boolean | Promise<boolean> };
  compat: Compat;
  handshakeMs: number;
  notifyLimits: NotificationLimits;
  log: (line: string) => void;
};

export type SessionContext = SessionInput & {
  request: ConnectFrame | null;
  link: SessionLink | null;
  /** The client's subscriptions, by key: changed in place (one SUBSCRIBE, one insert). */
  subscriptions: SubscriptionActors;
  /** DISCONNECT flushes what is queued before closing; every other ending just closes. */
  graceful: boolean;
  /** Clients served to the end, for tests and logs. */
  served: number;
};

export type SessionEvent =
  /** `exists`: what the store answered when serveLink asked; without it, a synchronous store is asked. */
  | { type: 'client.subscribe'; key: string; exists?: boolean }
  | { type: 'client.unsubscribe'; key: string }
  | { type: 'client.disconnect' }
  | { type: 'client.malformed'; error: DecodeError }
  | { type: 'client.gone'; reason: string }
  | { type: 'client.overflow' }
  | { type: 'server.reset' }
  | { type: 'server.close' };

export type OpenLinkInput = { id: number; request: ConnectFrame; handshakeMs: number; notifyLimits: NotificationLimits };

/** Why the subscriptions end when the session leaves `connected` on `event`. */
export function endReason(event: SessionEvent): SubscriptionEndReason {
  switch (event.type) {
    case 'client.unsubscribe':
      return 'unsubscribe';
    case 'client.disconnect':
      return 'disconnect';
    case 'client.gone':
      return 'client-gone';
    case 'client.malformed':
      return 'malformed';
    case 'client.overflow':
      return 'overflow';
    case 'server.reset':
      return 'reset';
    default:
      return 'shutdown';
  }
}

/** SUBSCRIBE's result: the seed says 0 for subscribed, the course's code 1 (docs/DESIGN.md section 2). */
export function subscribeResult(compat: Compat, subscribed: boolean): number {
  return subscribed === (compat === 'seed') ? RESULT_OK : RESULT_ERROR;
}

export const sessionMachine = setup({
  types: {
    input: {} as SessionInput,
    context: {} as SessionContext,
    events: {} as SessionEvent,
  },
  actors: {
    takeRequest: fromPromise<ConnectFrame, { queue: ConnectQueue }>(({ input, signal }) => input.queue.take(signal)),
    /** Opens the client's FIFOs: resolves once its response FIFO is open; aborting closes what it opened. */
    openLink: notProvided<SessionLink, OpenLinkInput>('session', 'openLink'),
    joinLink: fromPromise<void, { link: SessionLink }>(({ input, signal }) => input.link.ready(signal)),
    serveLink: fromCallback<SessionEvent, { link: SessionLink; store: SessionInput['store'] }>(({ input, sendBack }) => {
      // SUBSCRIBE asks the store whether the key exists, which may take a round trip (Redis): the
      // requests after it wait their turn, so the answers keep the order of the requests. An
      // answer that is there at once (a synchronous store, nothing queued) goes at once.
      let turn: Promise<void> = Promise.resolve();
      let queued = 0;
      let live = true;
      const deliver = (event: SessionEvent) => {
        queued--;
        if (live) sendBack(event);
      };
      const inOrder = (make: () => SessionEvent | Promise<SessionEvent>) => {
        if (queued === 0) {
          const event = make();
          if (!(event instanceof Promise)) return sendBack(event);
          queued++;
          turn = event.then(deliver);
          return;
        }
        queued++;
        turn = turn.then(make).then(deliver);
      };
      const subscribe = (key: string): SessionEvent | Promise<SessionEvent> => {
        const answer = (exists: boolean): SessionEvent => ({ type: 'client.subscribe', key, exists });
        // A store that fails (Redis gone, the server is stopping): the key is not subscribed.
        let exists: boolean | Promise<boolean>;
        try {
          exists = input.store.has(key);
        } catch {
          return answer(false);
        }
        return exists instanceof Promise ? exists.then(answer, () => answer(false)) : answer(exists);
      };
      const stop = input.link.listen({
        request: (frame) => {
          if (frame.kind === 'disconnect') inOrder(() => ({ type: 'client.disconnect' }));
          else if (frame.kind === 'subscribe') inOrder(() => subscribe(frame.key));
          else inOrder(() => ({ type: 'client.unsubscribe', key: frame.key }));
        },
        malformed: (error) => inOrder(() => ({ type: 'client.malformed', error })),
        gone: (reason) => sendBack({ type: 'client.gone', reason }),
        overflow: () => sendBack({ type: 'client.overflow' }),
      });
      return () => {
        live = false;
        stop();
      };
    }),
    closeLink: fromPromise<void, { link: SessionLink | null; graceful: boolean }>(async ({ input }) => {
      await input.link?.close(input.graceful);
    }),
    /** Started per SUBSCRIBE by the session's SubscriptionActors (not spawned as a child: see subscription.ts). */
    subscription: subscriptionMachine,
    /** Ends the subscription actors if the session itself is stopped (they are not its children). */
    keepSubscriptions: fromCallback<{ type: 'never' }, { subscriptions: SubscriptionActors }>(({ input }) => () => input.subscriptions.endAll('shutdown')),
  },
  guards: {
    keyExists: ({ context, event }) => event.type === 'client.subscribe' && (event.exists ?? context.store.has(event.key) === true),
    isSubscribed: ({ context, event }) => event.type === 'client.unsubscribe' && context.subscriptions.has(event.key),
    /** Subscribing twice is one subscription: only the first starts one. */
    keyExistsAndNew: ({ context, event }) =>
      event.type === 'client.subscribe' && !context.subscriptions.has(event.key) && (event.exists ?? context.store.has(event.key) === true),
  },
  actions: {
    /** Registers the subscription (notifications go straight to the link) and starts its actor. */
    subscribe: ({ context, event, self }) => {
      if (event.type !== 'client.subscribe' || context.link === null) return;
      context.registry.add(event.key, context.link.subscriber);
      context.subscriptions.start(self, { key: event.key, session: context.id, keys: context.registry });
    },
    unsubscribe: ({ context, event }) => {
      if (event.type !== 'client.unsubscribe' || context.link === null) return;
      context.subscriptions.end(event.key, endReason(event));
      context.registry.remove(event.key, context.link.subscriber);
    },
    /** The session ends: its subscriptions leave the registry at once, and their actors end with the reason. */
    endSubscriptions: ({ context, event }) => {
      // Only a link that got ready can have subscriptions. One that failed its handshake has no
      // subscriber, and asking it for one throws: the session then failed in `closing` and never
      // closed the client's request and response FIFOs.
      if (context.link !== null && context.subscriptions.size > 0) context.registry.removeAll(context.link.subscriber, context.subscriptions);
      context.subscriptions.endAll(endReason(event));
    },
    answer: ({ context }, params: { op: OpCode; result: number }) => context.link?.respond(params.op, params.result),
    answerSubscribe: ({ context }, params: { subscribed: boolean }) =>
      context.link?.respond(OpCode.Subscribe, subscribeResult(context.compat, params.subscribed)),
    answerMalformed: ({ context, event }) => {
      if (event.type !== 'client.malformed') return;
      if (event.error.op === OpCode.Subscribe) context.link?.respond(OpCode.Subscribe, subscribeResult(context.compat, false));
      if (event.error.op === OpCode.Unsubscribe) context.link?.respond(OpCode.Unsubscribe, RESULT_ERROR);
    },
    logEnding: ({ context, event }) => {
      const who = `session ${context.id} (${display(context.link?.name ?? context.request?.reqPipe ?? '?')})`;
      if (event.type === 'client.malformed') context.log(`${who}: malformed request: ${event.error.message}`);
      if (event.type === 'client.overflow') context.log(`${who}: the client is not reading its notifications; session ended`);
    },
    logOpenFailure: ({ context, event }) => {
      const error = (event as { error?: unknown }).error;
      const who = `session ${context.id} (${display(context.request?.reqPipe ?? '?')})`;
      const message = errorMessage(error);
      if (isRefusal(error)) context.log(`${who}: connect refused: ${message}`);
      else context.log(`${who}: cannot open the client's FIFOs: ${message}`);
    },
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({ ...input, request: null, link: null, subscriptions: new SubscriptionActors(), graceful: false, served: 0 }),
  invoke: { id: 'keepSubscriptions', src: 'keepSubscriptions', input: ({ context }) => ({ subscriptions: context.subscriptions }) },
  initial: 'idle',
  on: { 'server.close': '.stopping' },
  states: {
    idle: {
      entry: assign({ request: null, link: null, graceful: false }),
      invoke: {
        id: 'takeRequest',
        src: 'takeRequest',
        input: ({ context }) => ({ queue: context.queue }),
        onDone: { target: 'opening', actions: assign({ request: ({ event }) => event.output }) },
      },
    },
    opening: {
      invoke: {
        id: 'openLink',
        src: 'openLink',
        input: ({ context }) => ({
          id: context.id,
          request: context.request!,
          handshakeMs: context.handshakeMs,
          notifyLimits: context.notifyLimits,
        }),
        // Answered as soon as the response FIFO is open: the course's client opens the other two
        // only after reading this answer.
        onDone: {
          target: 'joining',
          actions: [assign({ link: ({ event }) => event.output }), { type: 'answer', params: { op: OpCode.Connect, result: RESULT_OK } }],
        },
        onError: { target: 'idle', actions: 'logOpenFailure' },
      },
      // Leaving aborts the open, which closes whatever it had opened.
      on: { 'server.reset': 'idle' },
    },
    joining: {
      invoke: {
        id: 'joinLink',
        src: 'joinLink',
        input: ({ context }) => ({ link: context.link! }),
        onDone: 'connected',
        // The client answered has not opened its request and notification FIFOs in time: its
        // session ends (it sees EOF on its response FIFO) and the slot is free for the next one.
        onError: { target: 'closing', actions: 'logOpenFailure' },
      },
      on: { 'server.reset': 'closing' },
    },
    connected: {
      invoke: { id: 'serveLink', src: 'serveLink', input: ({ context }) => ({ link: context.link!, store: context.store }) },
      on: {
        'client.subscribe': [
          { guard: 'keyExistsAndNew', actions: ['subscribe', { type: 'answerSubscribe', params: { subscribed: true } }] },
          // Already subscribed: still one subscription.
          { guard: 'keyExists', actions: { type: 'answerSubscribe', params: { subscribed: true } } },
          { actions: { type: 'answerSubscribe', params: { subscribed: false } } },
        ],
        'client.unsubscribe': [
          {
            guard: 'isSubscribed',
            actions: ['unsubscribe', { type: 'answer', params: { op: OpCode.Unsubscribe, result: RESULT_OK } }],
          },
          { actions: { type: 'answer', params: { op: OpCode.Unsubscribe, result: RESULT_ERROR } } },
        ],
        'client.disconnect': {
          target: 'closing',
          actions: [{ type: 'answer', params: { op: OpCode.Disconnect, result: RESULT_OK } }, assign({ graceful: true })],
        },
        'client.malformed': { target: 'closing', actions: ['answerMalformed', 'logEnding'] },
        'client.gone': { target: 'closing' },
        'client.overflow': { target: 'closing', actions: 'logEnding' },
        'server.reset': { target: 'closing' },
      },
    },
    closing: {
      entry: ['endSubscriptions', assign({ served: ({ context }) => context.served + 1 })],
      invoke: {
        id: 'closeLink',
        src: 'closeLink',
        input: ({ context }) => ({ link: context.link, graceful: context.graceful }),
        onDone: 'idle',
        onError: 'idle',
      },
    },
    stopping: {
      entry: 'endSubscriptions',
      on: { 'server.close': {} },
      invoke: {
        id: 'closeLinkNow',
        src: 'closeLink',
        input: ({ context }) => ({ link: context.link, graceful: false }),
        onDone: 'stopped',
        onError: 'stopped',
      },
    },
    stopped: { type: 'final' },
  },
});
