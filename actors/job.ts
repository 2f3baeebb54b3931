/**
 * A job actor: one `.job` file. The machine lives on the main thread; the work runs in a piscina
 * worker (runtime/job-worker.ts) that streams and parses the file and sends batches of operations
 * over a MessagePort. Here each batch is checked, applied by the store in one turn, and answered.
 */
import { MessageChannel } from 'node:worker_threads';
import { basename, dirname, join } from 'node:path';
import { fromCallback, sendParent, sendTo, setup, type AnyActorRef } from 'xstate';
import type { Piscina } from 'piscina';
import { checkOps, decode, encode, isBatchMessage } from '../protocol/bus.js';
import type { Compat } from '../protocol/options.js';
import type { JobSummary, JobTask } from '../runtime/job-worker.js';
import type { Store } from './store.js';

export interface JobInput {
  readonly jobPath: string;
  readonly pool: Piscina;
  readonly store: Store;
  readonly compat: Compat;
}

/** The system id of the backup coordinator, which takes `backup.request` events. */
export const BACKUPS_SYSTEM_ID = 'backups';

export type JobEvent =
  | { type: 'job.stop' }
  | { type: 'worker.done'; summary: JobSummary }
  | { type: 'worker.failed'; error: string };

/** Told to the supervisor when the job ends. */
export type JobReport =
  | { type: 'job.done'; jobPath: string; summary: JobSummary }
  | { type: 'job.failed'; jobPath: string; error: string };

export function jobName(jobPath: string): string {
  return basename(jobPath).replace(/\.job$/, '');
}

export function outPath(jobPath: string): string {
  return join(dirname(jobPath), `${jobName(jobPath)}.out`);
}

const runInWorker = fromCallback<{ type: 'job.stop' }, JobInput>(({ input, system, sendBack, receive }) => {
  const { jobPath, pool, store } = input;
  const backups = system.get(BACKUPS_SYSTEM_ID) as AnyActorRef | undefined;
  if (backups === undefined) throw new Error('job: no backup coordinator in the actor system');
  const name = jobName(jobPath);
  const { port1, port2 } = new MessageChannel();
  const abort = new AbortController();
  const onBackup = (n: number) => {
    const request = { job: name, n, path: join(dirname(jobPath), `${name}-${n}.bck`), snapshot: store.snapshot() };
    backups.send({ type: 'backup.request', request });
  };

  port1.on('message', (bytes: Uint8Array) => {
    const message = decode(bytes);
    const problem = isBatchMessage(message) ? checkOps(message.ops) : 'not a batch';
    if (problem !== null || !isBatchMessage(message)) {
      // Our own worker sent it, so this is a bug: end the job, keep the others.
      abort.abort(new Error(`malformed batch from the worker: ${problem}`));
      return;
    }
    const results = store.apply(message.ops, onBackup);
    const reply = encode({ t: 'results', seq: message.seq, results });
    port1.postMessage(reply, [reply.buffer as ArrayBuffer]);
  });

  const task: JobTask = { jobPath, outPath: outPath(jobPath), port: port2, compat: input.compat };
  pool.run(task, { transferList: [port2], signal: abort.signal }).then(
    (summary: JobSummary) => sendBack({ type: 'worker.done', summary }),
    (error: unknown) => sendBack({ type: 'worker.failed', error: describe(abort.signal.reason ?? error) }),
  );
  receive(() => port1.postMessage(encode({ t: 'stop' })));
  return () => port1.close();
});

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

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
          actions: sendParent(({ context, event }): JobReport => ({ type: 'job.failed', jobPath: context.jobPath, error: event.error })),
        },
      },
    },
    done: { type: 'final' },
    failed: { type: 'final' },
  },
});
