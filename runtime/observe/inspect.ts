/**
 * `--inspect[=URL]`: streams every actor's events and snapshots to a Stately inspector through
 * a WebSocket relay (`npm run inspect` starts one). Off by default, and then nothing here is even
 * loaded: `createActor(..., { inspect: undefined })` leaves XState with no observer at all.
 *
 * The conversion of XState's inspection events into the inspector's messages is the package's
 * (`createInspector`); the transport is ours. The package's own WebSocket adapter retries every
 * 5 s on a timer that `stop()` does not cancel and that keeps the process alive, and buffers
 * without bound: here a missing relay is one warning, retries never hold the process, and
 * `close()` flushes for a bounded time, then lets go.
 */
import type { InspectionEvent } from 'xstate';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import type WebSocket from 'ws';
import { errorMessage } from '../../protocol/guards.js';
import { errorCode } from '../../protocol/system-errors.js';
import { isInspectorAddress } from '../cli/command-line.js';
import { SystemNames, tidyMessage, tidySnapshot } from './inspector-view.js';

/** The package's default address, the one `npm run inspect` listens on. */
export const DEFAULT_INSPECT_URL = 'ws://localhost:8080';
/**
 * How long start-up waits for the relay, so the first actors are not lost. A missing relay refuses
 * at once; this only bounds a relay that is there but slow (a loaded machine: 1 s was seen to miss).
 */
const CONNECT_WAIT_MS = 5_000;
const RETRY_MS = 2_000;
const CLOSE_FLUSH_MS = 1_000;
/** How often the data's figures are sent. */
const FIGURES_MS = 1_000;
/** Messages kept while connecting (all kinds) and while the relay is away (actor registrations). */
const MAX_DEFERRED = 2_000;
/** A relay that stops reading must not grow our heap: past this, messages are dropped. */
const MAX_BUFFERED_BYTES = 8 << 20;

export interface Inspection {
  /** For `createActor(logic, { inspect })`; undefined when inspection is off. */
  readonly inspect: ((event: InspectionEvent) => void) | undefined;
  /**
   * Sends the data's figures (keys, commands/s, backups) to the relay as a `@kvs.figures` message,
   * now, every FIGURES_MS and once more at close, for the live view's header.
   */
  showFigures(sample: () => Promise<object>): void;
  /** Sends what is queued (for a bounded time) and lets go of the relay. Idempotent. */
  close(): Promise<void>;
}

export const NO_INSPECTION: Inspection = { inspect: undefined, showFigures: () => {}, close: async () => {} };

/**
 * Starts inspection when `address` is not null ('' means the default address). Waits up to
 * CONNECT_WAIT_MS (5 s) for the relay; if there is none, says so once through `warn` and runs on without it.
 */
export async function startInspection(address: string | null, warn: (line: string) => void): Promise<Inspection> {
  if (address === null) return NO_INSPECTION;
  const url = address === '' ? DEFAULT_INSPECT_URL : address;
  if (!isInspectorAddress(url)) {
    warn(`inspector: '${url}' is not a ws:// or wss:// address; running without the inspector`);
    return NO_INSPECTION;
  }
  const [{ createInspector }, { default: WebSocketClient }] = await Promise.all([import('@statelyai/inspect'), import('ws')]);
  const relay = new RelayAdapter(url, WebSocketClient, warn);
  const inspector = createInspector(relay, { serialize: (event) => tidyMessage(event) as StatelyInspectionEvent, autoStart: false });
  inspector.start();
  await relay.ready(CONNECT_WAIT_MS);
  const next = inspector.inspect.next!.bind(inspector.inspect);
  const systems = new SystemNames();
  let figures: { timer: NodeJS.Timeout; send: () => Promise<void> } | null = null;
  return {
    inspect: (event) => {
      // The package converts only these three kinds; the others would cost a timer each for nothing.
      if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.event' && event.type !== '@xstate.actor') return;
      const renamed = systems.rename(event);
      // Tidy a snapshot before the package stringifies it raw (its children hold the whole system).
      next(renamed.type === '@xstate.snapshot' ? ({ ...renamed, snapshot: tidySnapshot(renamed.snapshot) } as unknown as InspectionEvent) : renamed);
    },
    showFigures(sample) {
      const send = () =>
        sample().then(
          (values) => relay.send({ type: '@kvs.figures', createdAt: Date.now(), ...values } as unknown as StatelyInspectionEvent),
          () => undefined, // a store that cannot answer now (Redis away) is reported by the run itself
        );
      void send();
      figures = { timer: setInterval(() => void send(), FIGURES_MS).unref(), send };
    },
    async close() {
      if (figures !== null) {
        clearInterval(figures.timer);
        // The last figures, unless the store is too slow to say (a Redis going away).
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([figures.send(), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_FLUSH_MS)))]);
        clearTimeout(timer);
      }
      await relay.close();
    },
  };
}

type RelayState = 'connecting' | 'open' | 'away' | 'closed';

/** The package's adapter interface: `start`, `stop`, `send` one inspection message. */
class RelayAdapter {
  private socket: WebSocket | null = null;
  private state: RelayState = 'connecting';
  private deferred: StatelyInspectionEvent[] = [];
  private retry: NodeJS.Timeout | null = null;
  private warnedAway = false;
  private warnedDropping = false;
  private readonly settled: Promise<void>;
  private settle: () => void = () => {};
  private closing: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly Client: typeof WebSocket,
    private readonly warn: (line: string) => void,
  ) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    void this.close();
  }

  /** Resolves once connected, once the first attempt failed, or after `ms`. */
  ready(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    return Promise.race([this.settled, timeout]).finally(() => clearTimeout(timer));
  }

  send(message: StatelyInspectionEvent): void {
    const socket = this.socket;
    if (this.state === 'open' && socket !== null) {
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        if (!this.warnedDropping) this.warn(`inspector: the relay at ${this.url} is not keeping up; dropping messages`);
        this.warnedDropping = true;
        return;
      }
      socket.send(JSON.stringify(message));
      return;
    }
    // While the relay is away, only actor registrations are kept, so a relay that comes back
    // still knows every actor; while first connecting, everything is.
    if (this.state === 'closed' || (this.state === 'away' && message.type !== '@xstate.actor')) return;
    this.deferred.push(message);
    if (this.deferred.length > MAX_DEFERRED) this.deferred.shift();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private connect(): void {
    this.retry = null;
    let socket: WebSocket;
    try {
      socket = new this.Client(this.url, { handshakeTimeout: CONNECT_WAIT_MS });
    } catch (error) {
      this.warn(`inspector: cannot connect to ${this.url}: ${errorCode(error) ?? errorMessage(error)}; running without the inspector`);
      this.state = 'closed';
      this.deferred = [];
      this.settle();
      return;
    }
    this.socket = socket;
    socket.on('open', () => {
      if (this.state === 'closed') return;
      this.state = 'open';
      this.warnedAway = false;
      const deferred = this.deferred;
      this.deferred = [];
      for (const message of deferred) socket.send(JSON.stringify(message));
      this.settle();
    });
    // Without an 'error' listener a refused connection would throw; 'close' always follows it.
    socket.on('error', (error) => {
      if (this.state !== 'closed' && !this.warnedAway) {
        const was = this.state === 'open' ? 'lost the relay at' : 'no relay at';
        this.warn(`inspector: ${was} ${this.url} (${errorCode(error) ?? errorMessage(error)}); start one with \`npm run inspect\`. Running on without it`);
        this.warnedAway = true;
      }
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
      if (this.state === 'closed') return;
      if (!this.warnedAway) {
        this.warn(`inspector: the relay at ${this.url} went away. Running on without it`);
        this.warnedAway = true;
      }
      if (this.state === 'open') this.deferred = [];
      this.state = 'away';
      this.settle();
      // Try again now and then, quietly; the timer never keeps the program alive.
      this.retry = setTimeout(() => this.connect(), RETRY_MS);
      this.retry.unref();
    });
  }

  private async shutDown(): Promise<void> {
    // The package converts each inspection event in a `setTimeout(..., 0)` callback: let the
    // ones already queued run (timers of one duration run in order) before flushing.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const socket = this.socket;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.deferred = [];
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.settle();
    if (socket === null) return;
    if (!wasOpen) {
      socket.terminate();
      return;
    }
    const deadline = Date.now() + CLOSE_FLUSH_MS;
    while (socket.readyState === socket.OPEN && socket.bufferedAmount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    socket.close(1000);
    // A relay that does not answer the closing handshake must not hold the process.
    setTimeout(() => socket.terminate(), 200).unref();
  }
}
