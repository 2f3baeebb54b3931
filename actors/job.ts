/**
 * A job actor: one `.job` file. The machine lives on the main thread; the work runs in a piscina
 * worker (runtime/batch/job-worker.ts) that streams and parses the file and sends batches of operations
 * over a MessagePort. Here each batch is checked, handed to the store (whichever one runtime/
 * chose, through protocol/store-contract.ts) in order, and answered in order as it settles; a
 * batch that ends in a BACKUP waits for a free backup slot first. A batch the store could not
 * apply fails the job: the worker is told, and its `.out` ends after the last applied batch.
 * The worker is started through the input's `pool` (runtime/batch/job-pool.ts on piscina).
 */
import { fromCallback, sendParent, sendTo, setup, type AnyActorRef } from 'xstate';
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
  /** Worker threads at most: the supervisor keeps about twice as many job actors alive. */
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

export type JobEvent =
  | { type: 'job.stop' }
  | { type: 'worker.done'; summary: JobSummary }
  | { type: 'worker.failed'; error: string; applied: number };

/** Told to the supervisor when the job ends. */
export type JobReport =
  | { type: 'job.done'; jobPath: string; summary: JobSummary }
  /** `applied`: the commands the store applied for the job before it failed. */
  | { type: 'job.failed'; jobPath: string; error: string; applied: number };

const runInWorker = fromCallback<{ type: 'job.stop' }, JobInput>(({ input, system, sendBack, receive }) => {
  const { jobPath, pool, store } = input;
  const backups = system.get(BACKUPS_SYSTEM_ID) as AnyActorRef | undefined;
  if (backups === undefined) throw new Error('job: no backup coordinator in the actor system');
  const name = jobName(jobPath);
  const abort = new AbortController();
  const worker = pool.start({ jobPath, outPath: outPath(jobPath), compat: input.compat }, abort.signal);
  const port1 = worker.port;
  /** Checked batches not yet applied, in order; the one ending in a BACKUP waits for a slot. */
  const held: HeldBatch[] = [];
  let waiting: HeldBatch | null = null;
  let stopped = false;
  let failed = false;
  let closed = false;
  /** Commands in the batches the store applied: what a failed job still changed. */
  let applied = 0;
  /** Answers go out in batch order: each waits for the one before it. */
  let answered: Promise<void> = Promise.resolve();

  /** Replies in the batch's own message buffer when it has one (the worker reuses it). */
  const reply = (message: ToWorker, reuse?: ArrayBuffer) => {
    if (closed) return;
    const bytes = encode(message, reuse);
    port1.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  };
  /** The store failed under this job: nothing more is applied, and the worker ends in error. */
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    held.length = 0;
    waiting = null;
    reply({ t: 'failed', reason: errorMessage(error) });
  };
  const apply = (batch: HeldBatch, onBackup: (n: number, snapshot: StoreSnapshot) => void): Promise<StoreResults> => {
    const applying = store.apply(batch.ops, onBackup);
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
        if (failed) return;
        if (results === null) fail(error);
        // The batch's bytes are no longer read once it settled: its buffer carries the answer.
        else reply({ t: 'results', seq: batch.seq, results }, batch.ops.buffer as ArrayBuffer);
      });
    return applying;
  };

  /** Applies held batches in order until one ends in a BACKUP, which asks for a backup slot. */
  const pump = () => {
    while (waiting === null && held.length > 0 && !failed) {
      const batch = held.shift()!;
      if (stopped) {
        reply({ t: 'refused', seq: batch.seq }, batch.ops.buffer as ArrayBuffer);
        continue;
      }
      const n = batch.backup;
      if (n === null) {
        void apply(batch, noBackup).catch(() => undefined); // answered (or failed) in order above
        continue;
      }
      // As in the seed: a BACKUP that finds max_backups in progress waits (this job alone), and
      // its snapshot is taken only once a slot is free, so at most max_backups are ever held.
      waiting = batch;
      const begin = (): Promise<StoreSnapshot> | null => {
        if (waiting !== batch) return null; // the job stopped or failed meanwhile: the batch was refused
        waiting = null;
        let snapshot: StoreSnapshot | null = null;
        const applied = apply(batch, (_n, taken) => (snapshot = taken));
        // The batches after the BACKUP go to the store now, behind it: the store keeps their order.
        pump();
        return applied.then(() => {
          if (snapshot === null) throw new Error(`store ${store.describe}: a BACKUP batch gave no snapshot`);
          return snapshot;
        });
      };
      const request: BackupRequest = { job: name, n, path: backupPath(jobPath, n), begin };
      backups.send({ type: 'backup.request', request });
    }
  };

  port1.on('message', (bytes: Uint8Array) => {
    const message = decode(bytes);
    const check = isBatchMessage(message) ? checkBatch(message.ops) : ({ ok: false, error: 'not a batch' } as const);
    if (!check.ok || !isBatchMessage(message)) {
      // Our own worker sent it, so this is a bug: end the job, keep the others.
      abort.abort(new Error(`malformed batch from the worker: ${check.ok ? 'not a batch' : check.error}`));
      return;
    }
    held.push({ seq: message.seq, ops: message.ops, commands: check.commands, backup: check.backup });
    pump();
  });

  let settled = false;
  worker.done.then(
    (summary: JobSummary) => {
      settled = true;
      if (!closed) sendBack({ type: 'worker.done', summary });
    },
    (error: unknown) => {
      settled = true;
      if (!closed) sendBack({ type: 'worker.failed', error: errorMessage(abort.signal.reason ?? error), applied });
    },
  );
  receive(() => {
    if (stopped || failed) return;
    // Stopped because the store is gone: the job fails, naming the store, rather than ending as stopped.
    if (store.failure !== null) {
      fail(store.failure);
      return;
    }
    stopped = true;
    // The job stops at its next command boundary: nothing it sends from now on is applied, and
    // a BACKUP still waiting for a slot is given up (only the backups in progress finish).
    reply({ t: 'stop' });
    if (waiting !== null) {
      reply({ t: 'refused', seq: waiting.seq });
      waiting = null;
    }
    pump();
  });
  return () => {
    closed = true;
    waiting = null;
    port1.close();
    // Stopping the actor abandons its work, as xstate's promise actors do: the worker would
    // otherwise wait for results that never come, holding a pool thread until the pool is destroyed.
    if (!settled) abort.abort(new Error(`job ${jobPath}: the job actor was stopped`));
  };
});

/** A checked batch, and the number of the BACKUP that ends it (null when none does). */
interface HeldBatch {
  readonly seq: number;
  readonly ops: Uint8Array;
  readonly commands: number;
  readonly backup: number | null;
}

const noBackup = () => {
  throw new Error('store: a BACKUP in a batch that does not end with it');
};

export const jobMachine = setup({
  types: {
    input: {} as JobInput,
    context: {} as JobInput,
    events: {} as JobEvent,
  },
  actors: { runInWorker },
}).createMachine({
  id: 'job',
  context: ({ input }) => input,
  initial: 'running',
  states: {
    running: {
      invoke: { id: 'worker', src: 'runInWorker', input: ({ context }) => context },
      on: {
        'job.stop': { actions: sendTo('worker', { type: 'job.stop' }) },
        'worker.done': {
          target: 'done',
          actions: sendParent(({ context, event }): JobReport => ({ type: 'job.done', jobPath: context.jobPath, summary: event.summary })),
        },
        'worker.failed': {
          target: 'failed',
          actions: sendParent(({ context, event }): JobReport => ({ type: 'job.failed', jobPath: context.jobPath, error: event.error, applied: event.applied })),
        },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
  },
});
