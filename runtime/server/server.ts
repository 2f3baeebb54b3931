/**
 * Server mode: wires the host, S session actors and the subscription registry to the store and
 * to the jobs-folder watcher. `close()` stops accepting, ends every session, closes every FIFO
 * and removes the registration FIFO, within a deadline.
 */
import { setMaxListeners } from 'node:events';
import { lstat } from 'node:fs/promises';
import { type Actor, createActor, fromPromise, type InspectionEvent, waitFor } from 'xstate';
import { ConnectQueue } from '../../actors/connect-queue.js';
import type { Host, SignalSource } from '../../actors/host.js';
import { sessionMachine, type OpenLinkInput } from '../../actors/session.js';
import { SubscriptionRegistry } from '../../actors/subscription-registry.js';
import { OpCode, RESULT_ERROR, type ConnectFrame, encodeResponse } from '../../protocol/frames.js';
import type { Compat } from '../../protocol/compat.js';
import { errorMessage } from '../../protocol/guards.js';
import { display } from '../../protocol/keys.js';
import { errorCode } from '../../protocol/system-errors.js';
import { DEFAULT_LIMITS, type NotificationLimits } from '../../protocol/notification-limits.js';
import type { SessionLink } from '../../protocol/session-link.js';
import type { KvStore } from '../../protocol/store-contract.js';
import { type FileId, endWithin, fifoId, openWriteEnd, sameFile } from '../os/fifo.js';
import { FifoClaims } from './fifo-claims.js';
import { removeRegistrationFifosNow, startHost } from './registration.js';
import { openSessionFifos } from './session-fifos.js';
import { listJobs } from '../batch/job-listing.js';
import { JobsWatcher } from '../batch/jobs-watcher.js';

/**
 * A client has this long to open its response FIFO once a session takes its request, and as long
 * again to open its request and notification FIFOs once connect is answered.
 */
export const HANDSHAKE_MS = 1500;
/** Connect requests waiting for a session; past this the host stops reading the FIFO. */
export const CONNECT_BUFFER = 16;
const CLOSE_DEADLINE_MS = 2000;
/** How often the server looks whether its registration FIFO and jobs folder are still there. */
const PATH_CHECK_MS = 1000;

/**
 * What the server needs of the store: SUBSCRIBE's check, and every change in the store's one
 * order (with Redis, every host's changes, from the change channel).
 */
export type ObservableStore = Pick<KvStore, 'has' | 'watch'>;

export type ServerOptions = {
  store: ObservableStore;
  registerFifo: string;
  sessions: number;
  compat: Compat;
  jobsDir: string;
  submitJob: (jobPath: string) => void;
  log: (line: string) => void;
  handshakeMs?: number;
  notifyLimits?: NotificationLimits;
  connectBuffer?: number;
  signals?: SignalSource;
  /** `--inspect`: each session is a root actor of its own, so each is given the inspector. */
  inspect?: ((event: InspectionEvent) => void) | undefined;
  /**
   * Given, before the registration FIFO is made, a synchronous removal of it (only if it is still
   * this server's): for an exit that cannot wait for `close()`, such as a second stop signal,
   * which may come before this function has even returned.
   */
  onRegistration?: (removeNow: () => void) => void;
};

export interface Server {
  /**
   * The jobs in the folder when the server began to watch it: the supervisor runs these, and the
   * watch every job file that comes or changes later, so none is run twice or missed.
   */
  readonly initialJobs: readonly string[];
  /** Idempotent; resolves once every session has ended and the registration FIFO is gone. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<Server> {
  const { store, log } = options;
  const registry = new SubscriptionRegistry();
  const queue = new ConnectQueue(options.connectBuffer ?? Math.max(CONNECT_BUFFER, options.sessions));
  const claims = new FifoClaims();
  let closing: Promise<void> | null = null;
  const sessions = new Sessions(options, queue, registry, claims, () => closing !== null);

  options.onRegistration?.(removeRegistrationFifosNow);
  const openHost = () =>
    startHost({
      path: options.registerFifo,
      queue,
      log,
      ...(options.signals === undefined ? {} : { signals: options.signals }),
      sessions: () => sessions.running,
    }, options.inspect);
  const host = { current: await openHost() };

  let watcher: JobsWatcher;
  let unwatch: () => Promise<void>;
  let paths: OwnPaths;
  try {
    // No client may name the registration FIFO as one of its own.
    const fifo = await fifoId(options.registerFifo);
    claims.reserve(fifo, 'the registration FIFO');
    paths = { fifo, folder: await pathId(options.jobsDir) };
    watcher = await JobsWatcher.start({ jobsDir: options.jobsDir, submitJob: options.submitJob, log }, () => listJobs(options.jobsDir));
  } catch (error) {
    await host.current.close();
    throw error;
  }
  try {
    // Before any session starts: a subscription never misses a change applied after it.
    unwatch = await store.watch(registry.onChange);
  } catch (error) {
    watcher.close();
    await host.current.close();
    throw error;
  }
  sessions.startAll(options.sessions);
  const pathWatch = watchOwnPaths(options, paths, claims, host, openHost, () => closing !== null);

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await pathWatch.stop();
      watcher.close();
      await host.current.close();
      const refused = queue.drain().map((request) => refuse(request, claims));
      await Promise.allSettled([sessions.close(), ...refused]);
      await unwatch().catch(() => undefined);
      registry.clear();
    })();
    return closing;
  };

  return { initialJobs: watcher.initialJobs, close };
}

/** The S session actors. A session that fails is reported and, until the server closes, replaced. */
class Sessions {
  private actors: Actor<typeof sessionMachine>[] = [];
  private readonly machine: typeof sessionMachine;

  constructor(
    private readonly options: ServerOptions,
    private readonly queue: ConnectQueue,
    private readonly registry: SubscriptionRegistry,
    claims: FifoClaims,
    private readonly closing: () => boolean,
  ) {
    // The sessions' I/O: each opens its client's FIFOs, claimed against every other session's.
    this.machine = sessionMachine.provide({
      actors: {
        openLink: fromPromise<SessionLink, OpenLinkInput>(({ input, signal }) =>
          openSessionFifos(input.request, {
            handshakeMs: input.handshakeMs,
            notifyLimits: input.notifyLimits,
            signal,
            claims,
            owner: `session ${input.id}`,
          }),
        ),
      },
    });
  }

  startAll(count: number): void {
    this.actors = Array.from({ length: count }, (_, id) => this.start(id));
  }

  /** The session actors now: the host sends each `server.reset` on SIGUSR1. */
  get running(): readonly Actor<typeof sessionMachine>[] {
    return this.actors;
  }

  /** Ends every session, waiting for them within the close deadline, then stops them. */
  async close(): Promise<void> {
    for (const session of this.actors) session.send({ type: 'server.close' });
    const deadline = AbortSignal.timeout(CLOSE_DEADLINE_MS);
    setMaxListeners(this.actors.length + 1, deadline);
    await Promise.allSettled(this.actors.map((s) => waitFor(s, (snapshot) => snapshot.status !== 'active', { signal: deadline })));
    for (const session of this.actors) session.stop();
  }

  private start(id: number): Actor<typeof sessionMachine> {
    const { options } = this;
    const { log } = options;
    const actor = createActor(this.machine, {
      id: `session-${id}`,
      inspect: options.inspect,
      input: {
        id,
        queue: this.queue,
        registry: this.registry,
        store: options.store,
        compat: options.compat,
        handshakeMs: options.handshakeMs ?? HANDSHAKE_MS,
        notifyLimits: options.notifyLimits ?? DEFAULT_LIMITS,
        log,
      },
    });
    // A bug in one session must not take the others down: report it and start a fresh one.
    actor.subscribe({
      error: (error) => {
        // A log entry is one line: the stack goes line by line.
        const [first, ...stack] = (error instanceof Error ? (error.stack ?? error.message) : String(error)).split('\n');
        log(`session ${id} failed: ${first}`);
        for (const line of stack) log(line);
        // Nor keep its client's FIFOs open: the failed machine will never reach `closing`.
        this.releaseLink(actor.getSnapshot().context);
        if (!this.closing()) this.actors[id] = this.start(id);
      },
    });
    return actor.start();
  }

  private releaseLink({ link, subscriptions }: { link: SessionLink | null; subscriptions: Iterable<string> & { readonly size: number } }): void {
    if (link === null) return;
    if (subscriptions.size > 0) this.registry.removeAll(link.subscriber, subscriptions);
    void link.close(false).catch((error: unknown) => this.options.log(`closing the FIFOs of ${display(link.name)} failed: ${errorMessage(error)}`));
  }
}

/**
 * The registration FIFO and the jobs folder can be removed under a running server (a cleanup of
 * /tmp, a mistaken rm): said once, and a removed FIFO is made again, so clients can still come.
 * Something else put at the FIFO's path is not ours: it is left as it is. Looked at every
 * PATH_CHECK_MS until `stop`.
 */
function watchOwnPaths(
  options: ServerOptions,
  initial: OwnPaths,
  claims: FifoClaims,
  host: { current: Host },
  openHost: () => Promise<Host>,
  closing: () => boolean,
): { stop(): Promise<void> } {
  const { log } = options;
  let paths = initial;
  let told: { fifo: string | null; folder: string | null } = { fifo: null, folder: null };
  let checking: Promise<void> | null = null;
  const checkPaths = async (): Promise<void> => {
    const fifo = await pathState(options.registerFifo, paths.fifo);
    if (closing()) return;
    if (fifo === 'missing') {
      // Once, and not again at each retry after a failure to create it.
      if (told.fifo !== 'failed') log(`the registration FIFO ${options.registerFifo} was removed while serving: creating it again`);
      await host.current.close();
      // No longer read by us: its inode number may now go to any new file, a client's FIFO too.
      claims.unreserve(paths.fifo);
      try {
        if (closing()) return;
        host.current = await openHost();
        paths = { ...paths, fifo: await fifoId(options.registerFifo) };
        claims.reserve(paths.fifo, 'the registration FIFO');
        told = { ...told, fifo: null };
      } catch (error) {
        if (told.fifo !== 'failed') log(`cannot create the registration FIFO again: ${errorMessage(error)}; no new client can connect`);
        told = { ...told, fifo: 'failed' };
      }
    } else if (fifo === 'replaced' && told.fifo !== 'replaced') {
      log(`the registration FIFO ${options.registerFifo} was replaced by another file while serving: it is left as it is, and no new client can connect`);
      told = { ...told, fifo: 'replaced' };
    }
    const folder = await pathState(options.jobsDir, paths.folder);
    if (closing()) return;
    if (folder !== 'ours' && told.folder === null) {
      log(`the jobs folder ${options.jobsDir} was ${folder === 'missing' ? 'removed' : 'replaced'} while serving: job files put there are not run (the sessions go on)`);
      told = { ...told, folder };
    } else if (folder === 'ours') told = { ...told, folder: null };
  };
  const timer = setInterval(() => {
    checking ??= checkPaths().catch((error: unknown) => log(`checking the server's paths: ${errorMessage(error)}`)).finally(() => (checking = null));
  }, PATH_CHECK_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await checking;
    },
  };
}

type OwnPaths = { fifo: FileId; folder: FileId };

/** A path's identity, whatever it is (the jobs folder here). */
async function pathId(path: string): Promise<FileId> {
  const stat = await lstat(path);
  return { dev: stat.dev, ino: stat.ino };
}

/** Whether `path` still holds the file `id` names, nothing, or something else. */
async function pathState(path: string, id: FileId): Promise<'ours' | 'missing' | 'replaced'> {
  try {
    return sameFile(await lstat(path), id) ? 'ours' : 'replaced';
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing';
    throw error;
  }
}

/** A client still waiting at shutdown is told no, so it exits instead of waiting forever. */
async function refuse(request: ConnectFrame, claims: FifoClaims): Promise<void> {
  const path = Buffer.from(request.respPipe, 'latin1');
  // Only into the client's own response FIFO, never into one another session or the server uses.
  const id = await fifoId(path).catch(() => null);
  if (id === null || claims.has(id)) return;
  const socket = await openWriteEnd(path, AbortSignal.timeout(200), id).catch(() => null);
  if (socket === null) return;
  await endWithin(socket, 200, encodeResponse(OpCode.Connect, RESULT_ERROR));
}
