/**
 * A job actor: one `.job` file. The machine lives on the main thread; the work runs in a piscina
 * worker (runtime/batch/job-worker.ts) that streams and parses the file and sends batches of operations
 * over a MessagePort. Here each batch is checked, handed to the store (whichever one runtime/
 * chose, through protocol/store-contract.ts) in order, and answered in order as it settles; a
 * batch that ends in a BACKUP waits for a free backup slot first. A batch the store could not
 * apply fails the job: the worker is told, and its `.out` ends after the last applied batch.
 * The worker is started through the input's `pool` (runtime/batch/job-pool.ts on piscina).
 *
 * The machine holds the job's life (`live`: applying, waitingForSlot, stopping, failing; then
 * done or failed) and the batches not yet given to the store; `runInWorker` is its I/O: the
 * worker's port, the store's promises, the answers in batch order.
 */
import { assign, enqueueActions, fromCallback, sendParent, sendTo, setup, type AnyActorRef } from 'xstate';
import { checkBatch } from '../protocol/batch-codec.js';
import { decode, encode, isBatchMessage, type ToWorker } from '../protocol/bus.js';
import type { Compat } from '../protocol/compat.js';
import { backupPath, jobName, outPath } from '../protocol/job-files.js';
import { errorMessage } from '../protocol/guards.js';
import type { BusPort, JobSummary, JobTask } from '../protocol/job-task.js';
import type { KvStore, StoreResults, StoreSnapshot } from '../protocol/store-contract.js';
import { BACKUPS_SYSTEM_ID, type BackupRequest } from './backup-coordinator.js';

/** Runs the work half of jobs in worker threads: runtime/batch/job-pool.ts on piscina. */
export interface JobPool {
  /** Worker threads at most: the supervisor sizes its window of job actors by it (SupervisorInput.window). */
  readonly threads: number;
  /**
   * Starts a worker on `task`, talking over a fresh channel whose other end is `port`. Aborting
   * `signal` ends the worker, wherever it is.
   */
  start(task: Omit<JobTask, 'port'>, signal: AbortSignal): { readonly port: BusPort; readonly done: Promise<JobSummary> };
}

export interface JobInput {
  readonly jobPath: string;
  readonly pool: JobPool;
  readonly store: KvStore;
  readonly compat: Compat;
}

/** A checked batch, and the number of the BACKUP that ends it (null when none does). */
interface HeldBatch {
  readonly seq: number;
  readonly ops: Uint8Array;
  readonly commands: number;
  readonly backup: number | null;
}

/** A backup slot given to the batch waiting for one: settled with the snapshot, or null if the job let it go. */
interface Slot {
  readonly resolve: (snapshot: Promise<StoreSnapshot | null> | null) => void;
}

interface JobContext extends JobInput {
  /** Checked batches not yet given to the store, in order. */
  readonly held: readonly HeldBatch[];
  /** The batch ending in a BACKUP that waits for a backup slot (`waitingForSlot`). */
  readonly waiting: HeldBatch | null;
}

export type JobEvent =
  | { type: 'job.stop' }
  | { type: 'worker.batch'; batch: HeldBatch }
  | { type: 'worker.done'; summary: JobSummary }
  | { type: 'worker.failed'; error: string; applied: number }
  /** The store could not apply a batch: nothing more is applied. */
  | { type: 'store.failed'; error: unknown }
  | { type: 'slot.given'; batch: HeldBatch; slot: Slot };

/** What the machine tells its I/O adapter. */
type WorkerCommand =
  | { type: 'apply'; batch: HeldBatch; slot: Slot | null }
  /** `reuse`: the batch's buffer may carry the answer (it is read no more). */
  | { type: 'refuse'; batch: HeldBatch; reuse: boolean }
  | { type: 'stop' }
  | { type: 'fail'; error: unknown };

/** Told to the supervisor when the job ends. */
export type JobReport =
  | { type: 'job.done'; jobPath: string; summary: JobSummary }
  /** `applied`: the commands the store applied for the job before it failed. */
  | { type: 'job.failed'; jobPath: string; error: string; applied: number };

/**
 * The job's I/O: starts the worker, passes its checked batches up, and does what the machine
 * says: applies a batch (answering in batch order as the store settles), refuses one, tells the
 * worker to stop, or that the job failed (the last message it is sent).
 */
const runInWorker = fromCallback<WorkerCommand, JobInput>(({ input, system, sendBack, receive }) => {
  const { jobPath, pool, store } = input;
  backupsOf(system);
  const abort = new AbortController();
  const worker = pool.start({ jobPath, outPath: outPath(jobPath), compat: input.compat }, abort.signal);
  const port1 = worker.port;
  /** Nothing more goes to the worker: the actor stopped, or the worker was told the job failed. */
  let silent = false;
  /** The worker's task has ended: stopping the actor has nothing to abort. */
  let settled = false;
  /** Commands in the batches the store applied: what a failed job still changed. */
  let applied = 0;
  /** Answers go out in batch order: each waits for the one before it. */
  let answered: Promise<void> = Promise.resolve();

  /** Replies in the batch's own message buffer when it has one (the worker reuses it). */
  const reply = (message: ToWorker, reuse?: ArrayBuffer) => {
    if (silent) return;
    const bytes = encode(message, reuse);
    port1.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  };
  const apply = (batch: HeldBatch, slot: Slot | null) => {
    let snapshot: StoreSnapshot | null = null;
    const applying: Promise<StoreResults> = store.apply(batch.ops, slot === null ? noBackup : (_n, taken) => (snapshot = taken));
    // A handler now, not when the batches before it settle: a rejection must never go unhandled.
    const outcome = applying.then(
      (results) => {
        applied += batch.commands;
        return { results, error: null };
      },
      (error: unknown) => ({ results: null, error }),
    );
    answered = answered
      .then(() => outcome)
      .then(({ results, error }) => {
        if (silent) return;
        if (results === null) sendBack({ type: 'store.failed', error });
        // The batch's bytes are no longer read once it settled: its buffer carries the answer.
        else reply({ t: 'results', seq: batch.seq, results }, batch.ops.buffer as ArrayBuffer);
      });
    slot?.resolve(
      applying.then(() => {
        if (snapshot === null) throw new Error(`store ${store.describe}: a BACKUP batch gave no snapshot`);
        return snapshot;
      }),
    );
  };

  port1.on('message', (bytes: Uint8Array) => {
    const message = decode(bytes);
    const check = isBatchMessage(message) ? checkBatch(message.ops) : ({ ok: false, error: 'not a batch' } as const);
    if (!check.ok || !isBatchMessage(message)) {
      // Our own worker sent it, so this is a bug: end the job, keep the others.
      abort.abort(new Error(`malformed batch from the worker: ${check.ok ? 'not a batch' : check.error}`));
      return;
    }
    sendBack({ type: 'worker.batch', batch: { seq: message.seq, ops: message.ops, commands: check.commands, backup: check.backup } });
  });

  worker.done.then(
    (summary: JobSummary) => {
      settled = true;
      sendBack({ type: 'worker.done', summary });
    },
    (error: unknown) => {
      settled = true;
      sendBack({ type: 'worker.failed', error: errorMessage(abort.signal.reason ?? error), applied });
    },
  );
  receive((command) => {
    switch (command.type) {
      case 'apply':
        return apply(command.batch, command.slot);
      case 'refuse':
        return reply({ t: 'refused', seq: command.batch.seq }, command.reuse ? (command.batch.ops.buffer as ArrayBuffer) : undefined);
      case 'stop':
        return reply({ t: 'stop' });
      case 'fail':
        reply({ t: 'failed', reason: errorMessage(command.error) });
        silent = true;
        return;
    }
  });
  return () => {
    silent = true;
    port1.close();
    // Stopping the actor abandons its work, as xstate's promise actors do: the worker would
    // otherwise wait for results that never come, holding a pool thread until the pool is destroyed.
    if (!settled) abort.abort(new Error(`job ${jobPath}: the job actor was stopped`));
  };
});

const noBackup = () => {
  throw new Error('store: a BACKUP in a batch that does not end with it');
};

export const jobMachine = setup({
  types: {
    input: {} as JobInput,
    context: {} as JobContext,
    events: {} as JobEvent,
  },
  actors: { runInWorker },
  guards: {
    hasHeld: ({ context }) => context.held.length > 0,
    nextEndsInBackup: ({ context }) => {
      const next = context.held[0];
      return next !== undefined && next.backup !== null;
    },
    storeFailed: ({ context }) => context.store.failure !== null,
    isTheWaitingBatch: ({ context, event }) => event.type === 'slot.given' && event.batch === context.waiting,
  },
  actions: {
    hold: assign({ held: ({ context, event }) => (event.type === 'worker.batch' ? [...context.held, event.batch] : context.held) }),
    applyNext: enqueueActions(({ context, enqueue }) => {
      const [batch, ...rest] = context.held;
      if (batch === undefined) return;
      enqueue.assign({ held: rest });
      enqueue.sendTo('worker', { type: 'apply', batch, slot: null } satisfies WorkerCommand);
    }),
    /**
     * As in the seed: a BACKUP that finds max_backups in progress waits (this job alone), and its
     * snapshot is taken only once a slot is free, so at most max_backups are ever held. The
     * coordinator calls `begin` when a slot is free; the batch still waiting then is applied.
     */
    requestSlot: enqueueActions(({ context, enqueue, self }) => {
      const [batch, ...rest] = context.held;
      if (batch === undefined || batch.backup === null) return;
      enqueue.assign({ held: rest, waiting: batch });
      const begin = (): Promise<StoreSnapshot | null> | null => {
        const now = self.getSnapshot();
        // The job stopped or failed meanwhile: the batch was refused or dropped.
        if (now.status !== 'active' || now.context.waiting !== batch) return null;
        return new Promise<StoreSnapshot | null>((resolve) => self.send({ type: 'slot.given', batch, slot: { resolve } }));
      };
      const request: BackupRequest = { job: jobName(context.jobPath), n: batch.backup, path: backupPath(context.jobPath, batch.backup), begin };
      enqueue.sendTo(({ system }) => backupsOf(system), { type: 'backup.request', request });
    }),
    /** The batches after the BACKUP go to the store after it: the store keeps their order. */
    applyWaiting: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'slot.given' || context.waiting === null) return;
      enqueue.sendTo('worker', { type: 'apply', batch: context.waiting, slot: event.slot } satisfies WorkerCommand);
      enqueue.assign({ waiting: null });
    }),
    /** A slot that came too late (the job stopped or failed as it was given): no backup. */
    letSlotGo: ({ event }) => {
      if (event.type === 'slot.given') event.slot.resolve(null);
    },
    tellStop: sendTo('worker', { type: 'stop' } satisfies WorkerCommand),
    /** Stopping: the BACKUP waiting for a slot is given up, and no batch more is applied. */
    refuseUnapplied: enqueueActions(({ context, enqueue }) => {
      if (context.waiting !== null) enqueue.sendTo('worker', { type: 'refuse', batch: context.waiting, reuse: false } satisfies WorkerCommand);
      for (const batch of context.held) enqueue.sendTo('worker', { type: 'refuse', batch, reuse: true } satisfies WorkerCommand);
      enqueue.assign({ held: [], waiting: null });
    }),
    refuseBatch: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'worker.batch') enqueue.sendTo('worker', { type: 'refuse', batch: event.batch, reuse: true } satisfies WorkerCommand);
    }),
    tellFailed: sendTo('worker', ({ context, event }): WorkerCommand => ({ type: 'fail', error: event.type === 'store.failed' ? event.error : context.store.failure })),
    dropUnapplied: assign({ held: [], waiting: null }),
  },
}).createMachine({
  id: 'job',
  context: ({ input }) => ({ ...input, held: [], waiting: null }),
  initial: 'live',
  states: {
    live: {
      invoke: { id: 'worker', src: 'runInWorker', input: ({ context }) => ({ jobPath: context.jobPath, pool: context.pool, store: context.store, compat: context.compat }) },
      initial: 'applying',
      on: {
        'worker.batch': { actions: 'hold' },
        // Stopped because the store is gone: the job fails, naming the store, rather than ending as stopped.
        'job.stop': [{ guard: 'storeFailed', target: '.failing' }, { target: '.stopping' }],
        'store.failed': { target: '.failing' },
        'slot.given': { actions: 'letSlotGo' },
        'worker.done': {
          target: 'done',
          actions: sendParent(({ context, event }): JobReport => ({ type: 'job.done', jobPath: context.jobPath, summary: event.summary })),
        },
        'worker.failed': {
          target: 'failed',
          actions: sendParent(({ context, event }): JobReport => ({ type: 'job.failed', jobPath: context.jobPath, error: event.error, applied: event.applied })),
        },
      },
      states: {
        /** Held batches go to the store in order, until one ends in a BACKUP. */
        applying: {
          always: [
            { guard: 'nextEndsInBackup', target: 'waitingForSlot', actions: 'requestSlot' },
            { guard: 'hasHeld', actions: 'applyNext' },
          ],
        },
        /** A BACKUP waits for a backup slot; the batches after it wait behind it. */
        waitingForSlot: {
          on: { 'slot.given': { guard: 'isTheWaitingBatch', target: 'applying', actions: 'applyWaiting' } },
        },
        /**
         * The job stops at its next command boundary: nothing it sends from now on is applied, and
         * a BACKUP still waiting for a slot is given up (only the backups in progress finish).
         */
        stopping: {
          entry: ['tellStop', 'refuseUnapplied'],
          on: { 'worker.batch': { actions: 'refuseBatch' }, 'job.stop': {} },
        },
        /** The store failed under the job: nothing more is applied, and the worker ends in error. */
        failing: {
          entry: ['tellFailed', 'dropUnapplied'],
          on: { 'worker.batch': {}, 'job.stop': {}, 'store.failed': {} },
        },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
  },
});

function backupsOf(system: { get(id: string): AnyActorRef | undefined }): AnyActorRef {
  const backups = system.get(BACKUPS_SYSTEM_ID);
  if (backups === undefined) throw new Error('job: no backup coordinator in the actor system');
  return backups;
}
