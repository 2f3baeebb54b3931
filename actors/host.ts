/**
 * The host actor: owns the registration FIFO and reads 121-byte connect requests from it into
 * the bounded connect buffer. When the buffer is full it stops reading (`paused`), so the
 * kernel's pipe buffer fills and writers wait, as the seed's semaphores made them. It is the only
 * actor that listens for SIGUSR1, and on it tells every session itself to end its client
 * (`server.reset`): two hops from the signal to the sessions, the host's own event and its sends.
 *
 * A connect request is 121 bytes, under PIPE_BUF, so a conforming client's write arrives whole: bytes
 * that stay short of a frame for PARTIAL_FRAME_MS came from a writer that gave up midway, and are
 * dropped, or they would swallow the start of the next client's request.
 *
 * The machine: opening (create the FIFO, replacing only a stale one: a path that is not a FIFO, or
 * a FIFO a live server reads, is refused and left as it is; then open it O_RDWR) -> listening
 * (reading <-> paused) -> closing (remove the FIFO if it is still ours) -> closed.
 *
 * The machine names its I/O, and runtime/server/registration.ts supplies it (`hostMachine.provide`):
 * `openFifo` and `removeOwnFifo`, and the signal source in the input. `Host` is the small handle
 * the server holds.
 */
import { type ActorRefFrom, type InspectionEvent, assign, createActor, enqueueActions, fromCallback, setup, waitFor, type Actor } from 'xstate';
import type { ConnectQueue } from './connect-queue.js';
import { FrameReader } from '../protocol/frame-reader.js';
import { CONNECT_SIZE } from '../protocol/frames.js';
import { notProvided } from './not-provided.js';
import type { sessionMachine } from './session.js';

/** Where SIGUSR1 comes from: the process, or a fake in tests. */
export interface SignalSource {
  on(listener: () => void): void;
  off(listener: () => void): void;
}

/** The registration FIFO's read end as the host uses it (a net.Socket). */
export interface RegistrationEnd {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
}

/** A session actor, as the host reaches it on SIGUSR1. */
export type SessionRef = ActorRefFrom<typeof sessionMachine>;

export type HostInput = {
  path: string;
  queue: ConnectQueue;
  /** The session actors running now (a failed one is replaced, so asked at each signal). */
  sessions: () => Iterable<SessionRef>;
  log: (line: string) => void;
  signals: SignalSource;
  /** The FIFO's mode; runtime/'s openFifo has a default. */
  mode?: number;
};

export type HostContext = HostInput & {
  socket: RegistrationEnd | null;
  inode: number;
  malformed: number;
  error: unknown;
};

export type HostEvent =
  | { type: 'signal.sigusr1' }
  | { type: 'buffer.full' }
  | { type: 'buffer.space' }
  | { type: 'request.malformed'; reason: string }
  | { type: 'request.partial'; bytes: number }
  | { type: 'host.close' };

/** What openFifo gives: the read end, and the FIFO's inode, so that closing removes only our own. */
export type OpenedFifo = { socket: RegistrationEnd; inode: number };
export type OpenFifoInput = { path: string; mode: number | undefined };
export type RemoveOwnFifoInput = { path: string; inode: number };

/** Creates the FIFO (replacing only a stale one) and opens it O_RDWR. */
const openFifo = notProvided<OpenedFifo, OpenFifoInput>('host', 'openFifo');
/** Removes the FIFO if the path still holds ours (same inode). */
const removeOwnFifo = notProvided<void, RemoveOwnFifoInput>('host', 'removeOwnFifo');

/** How long the start of a connect request may wait for the rest of it. */
export const PARTIAL_FRAME_MS = 100;

type ReadInput = { socket: RegistrationEnd; queue: ConnectQueue; signals: SignalSource; path: string; log: (line: string) => void };

/** Moves whole frames into the buffer while it has room, and reads on only while it has room. */
const readRequests = fromCallback<HostEvent, ReadInput>(({ input, sendBack }) => {
  const { socket, queue, signals } = input;
  const reader = new FrameReader('register');
  let paused = false;
  let partialTimer: NodeJS.Timeout | null = null;
  const dropPartial = () => {
    partialTimer = null;
    // Paused, the bytes held back are whole frames waiting for room, not a stray partial frame.
    if (paused || reader.pendingBytes === 0) return;
    const bytes = reader.pendingBytes;
    reader.end();
    sendBack({ type: 'request.partial', bytes });
  };
  const pump = () => {
    while (!queue.full) {
      const result = reader.next();
      if (result === undefined) break;
      if (result.ok) queue.offer(result.value);
      else sendBack({ type: 'request.malformed', reason: result.error.message });
    }
    if (queue.full !== paused) {
      paused = queue.full;
      if (paused) socket.pause();
      else socket.resume();
      sendBack({ type: paused ? 'buffer.full' : 'buffer.space' });
    }
    // Restarted by every chunk: only a partial frame that nothing follows for a while is dropped.
    if (partialTimer !== null) clearTimeout(partialTimer);
    partialTimer = !paused && reader.pendingBytes > 0 ? setTimeout(dropPartial, PARTIAL_FRAME_MS) : null;
  };
  const onSigusr1 = () => sendBack({ type: 'signal.sigusr1' });
  signals.on(onSigusr1);
  queue.onSpace = pump;
  socket.on('data', (chunk: Buffer) => {
    reader.append(chunk);
    pump();
  });
  // O_RDWR means no EOF between clients; an error here is the FIFO itself failing.
  socket.on('error', (error) => input.log(`registration FIFO ${input.path}: ${error.message}`));
  return () => {
    if (partialTimer !== null) clearTimeout(partialTimer);
    signals.off(onSigusr1);
    queue.onSpace = null;
    socket.destroy();
  };
});

export const hostMachine = setup({
  types: {
    input: {} as HostInput,
    context: {} as HostContext,
    events: {} as HostEvent,
  },
  actors: { openFifo, readRequests, removeOwnFifo },
  actions: {
    reportPartial: ({ context, event }) => {
      if (event.type !== 'request.partial') return;
      context.log(`registration FIFO: dropped an incomplete connect request (${event.bytes} of ${CONNECT_SIZE} bytes; nothing followed within ${PARTIAL_FRAME_MS} ms)`);
    },
    /** SIGUSR1: every session ends its client (its subscriptions go with it); the server goes on. */
    resetSessions: enqueueActions(({ context, enqueue }) => {
      const sessions = [...context.sessions()];
      const ended = sessions.filter((session) => session.getSnapshot().matches('connected')).length;
      for (const session of sessions) enqueue.sendTo(session, { type: 'server.reset' });
      enqueue(() => context.log(`SIGUSR1: ended ${ended} client session(s); accepting new clients`));
    }),
    countMalformed: assign({ malformed: ({ context }) => context.malformed + 1 }),
    reportMalformed: ({ context, event }) => {
      // Garbage is skipped byte by byte: report once per burst, not once per byte.
      if (event.type === 'request.malformed' && (context.malformed === 1 || context.malformed % 1000 === 0)) {
        context.log(`registration FIFO: malformed connect request skipped (${event.reason})`);
      }
    },
  },
}).createMachine({
  id: 'host',
  context: ({ input }) => ({ ...input, socket: null, inode: 0, malformed: 0, error: null }),
  initial: 'opening',
  states: {
    opening: {
      invoke: {
        id: 'openFifo',
        src: 'openFifo',
        input: ({ context }): OpenFifoInput => ({ path: context.path, mode: context.mode }),
        onDone: { target: 'listening', actions: assign({ socket: ({ event }) => event.output.socket, inode: ({ event }) => event.output.inode }) },
        onError: { target: 'failed', actions: assign({ error: ({ event }) => event.error }) },
      },
    },
    listening: {
      invoke: {
        id: 'readRequests',
        src: 'readRequests',
        input: ({ context }) => ({
          socket: context.socket!,
          queue: context.queue,
          signals: context.signals,
          path: context.path,
          log: context.log,
        }),
      },
      initial: 'reading',
      states: {
        reading: { on: { 'buffer.full': 'paused' } },
        paused: { on: { 'buffer.space': 'reading' } },
      },
      on: {
        'signal.sigusr1': { actions: 'resetSessions' },
        'request.malformed': { actions: ['countMalformed', 'reportMalformed'] },
        'request.partial': { actions: 'reportPartial' },
        'host.close': 'closing',
      },
    },
    closing: {
      invoke: {
        id: 'removeOwnFifo',
        src: 'removeOwnFifo',
        input: ({ context }) => ({ path: context.path, inode: context.inode }),
        onDone: 'closed',
        onError: 'closed',
      },
    },
    closed: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** The server's handle on the running host actor. */
export class Host {
  private closing: Promise<void> | null = null;

  private constructor(private readonly actor: Actor<typeof hostMachine>) {}

  /**
   * Starts `machine` (hostMachine with its I/O provided: runtime/server/registration.ts), which creates
   * the FIFO (replacing only a stale FIFO there) and starts reading it.
   */
  static async start(machine: typeof hostMachine, input: HostInput, inspect?: (event: InspectionEvent) => void): Promise<Host> {
    const actor = createActor(machine, { id: 'host', input, ...(inspect === undefined ? {} : { inspect }) }).start();
    const snapshot = await waitFor(actor, (s) => s.matches('listening') || s.status !== 'active');
    if (!snapshot.matches('listening')) {
      actor.stop();
      throw snapshot.context.error instanceof Error ? snapshot.context.error : new Error(String(snapshot.context.error));
    }
    return new Host(actor);
  }

  /** Frames skipped as malformed since start. */
  get malformedCount(): number {
    return this.actor.getSnapshot().context.malformed;
  }

  /** Stops reading, stops listening for SIGUSR1, removes the FIFO if it is still ours. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.actor.send({ type: 'host.close' });
      await waitFor(this.actor, (s) => s.status !== 'active');
      this.actor.stop();
    })();
    return this.closing;
  }
}
