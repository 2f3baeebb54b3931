/**
 * The supervisor: finds the `.job` files, spawns a job actor for each as room frees up in its
 * window (SupervisorInput.window: so that 10,000 job files are not 10,000 actors at once), waits
 * for every job and then for every backup. In server mode it
 * also takes jobs submitted later (a file created or rewritten in the folder) until told to stop.
 * A job that fails is reported with its name; the others go on.
 */
import { type ActorRefFrom, assign, enqueueActions, sendTo, setup } from 'xstate';
import type { Compat } from '../protocol/compat.js';
import { describeError } from '../protocol/system-errors.js';
import type { JobSummary } from '../protocol/job-task.js';
import type { KvStore } from '../protocol/store-contract.js';
import { BACKUPS_SYSTEM_ID, backupCoordinatorMachine, backupsView, type BackupCoordinatorOutput, type BackupsView, type BackupWriter } from './backup-coordinator.js';
import { jobMachine, type JobInput, type JobPool, type JobReport } from './job.js';
import { notProvided } from './not-provided.js';

export interface SupervisorInput {
  readonly jobsDir: string;
  readonly pool: JobPool;
  readonly store: KvStore;
  readonly compat: Compat;
  readonly maxBackups: number;
  readonly backupWriter: BackupWriter;
  /** Server mode: keep running, taking submitted jobs, until `supervisor.stop`. */
  readonly serve: boolean;
  readonly report: (line: string) => void;
  /** Job actors alive at once; by default twice the pool's threads, so a worker never waits for one. */
  readonly window?: number;
}

export interface JobResult {
  readonly jobPath: string;
  readonly summary?: JobSummary;
  readonly error?: string;
  /** A job that failed: the commands the store had applied for it (they changed the store). */
  readonly applied?: number;
}

interface SupervisorContext extends SupervisorInput {
  /** Job files now running, and those asked to run again once their current run ends. */
  readonly active: readonly string[];
  readonly rerun: readonly string[];
  /** Job files waiting for room in the window, oldest first (a queue read from `next`). */
  readonly waiting: readonly string[];
  readonly next: number;
  readonly window: number;
  readonly results: readonly JobResult[];
  readonly spawned: number;
  readonly stopping: boolean;
  readonly backupOutput: BackupCoordinatorOutput | null;
}

export type SupervisorEvent =
  | JobReport
  | { type: 'job.submit'; jobPath: string }
  | { type: 'supervisor.stop' };

export interface SupervisorOutput {
  readonly results: readonly JobResult[];
  readonly backups: BackupCoordinatorOutput;
}

/**
 * Lists the jobs in the folder (protocol/job-files.ts's rule), in name order: reading a folder is
 * I/O, supplied by runtime/ (`supervisorMachine.provide`).
 */
const listJobs = notProvided<string[], string>('supervisor', 'listJobs');

interface Window {
  readonly active: readonly string[];
  readonly waiting: readonly string[];
  readonly next: number;
}

/** Spawns queued jobs while the window has room; returns the context fields it changed. */
function fillWindow(
  context: SupervisorContext,
  enqueue: { spawnChild: (src: 'job', options: { id: string; input: JobInput }) => void },
  from: Window,
): Window & { spawned: number } {
  let { active, next } = from;
  let { spawned } = context;
  while (!context.stopping && active.length < context.window && next < from.waiting.length) {
    const jobPath = from.waiting[next++]!;
    enqueue.spawnChild('job', {
      id: `job-${++spawned}`,
      input: { jobPath, pool: context.pool, store: context.store, compat: context.compat },
    });
    active = [...active, jobPath];
  }
  return { active, waiting: from.waiting, next, spawned };
}

export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorInput,
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    output: {} as SupervisorOutput,
  },
  actors: {
    listJobs,
    job: jobMachine,
    backupCoordinator: backupCoordinatorMachine,
  },
  guards: {
    allJobsDone: ({ context }) =>
      context.active.length === 0 && context.next === context.waiting.length && (!context.serve || context.stopping),
  },
  actions: {
    queueJobs: enqueueActions(({ context, enqueue }, params: { paths: readonly string[] }) => {
      if (context.stopping) return;
      let { rerun } = context;
      const queued = new Set(context.waiting.slice(context.next));
      const added: string[] = [];
      for (const jobPath of params.paths) {
        if (queued.has(jobPath)) continue; // it has not started: that run will read the file as it is now
        if (context.active.includes(jobPath)) {
          // The same file again while it runs: run it once more after, never twice at once.
          if (!rerun.includes(jobPath)) rerun = [...rerun, jobPath];
          continue;
        }
        queued.add(jobPath);
        added.push(jobPath);
      }
      // The queue is compacted only when it empties, so taking from it is O(1), not a copy.
      const waiting = context.next === context.waiting.length ? added : [...context.waiting, ...added];
      const next = context.next === context.waiting.length ? 0 : context.next;
      enqueue.assign({ rerun, ...fillWindow(context, enqueue, { active: context.active, waiting, next }) });
    }),
    recordResult: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'job.done' && event.type !== 'job.failed') return;
      // A finished child stays in the children until stopped, and every spawn and stop copies
      // them: stop it now, so they number the window, not every job file ever run.
      for (const [id, child] of Object.entries(self.getSnapshot().children)) {
        if (id.startsWith('job-') && child?.getSnapshot().status !== 'active' && child?.getSnapshot().context.jobPath === event.jobPath) enqueue.stopChild(id);
      }
      const result: JobResult =
        event.type === 'job.done' ? { jobPath: event.jobPath, summary: event.summary } : { jobPath: event.jobPath, error: event.error, applied: event.applied };
      if (event.type === 'job.failed') context.report(`job ${event.jobPath} failed: ${event.error}`);
      const active = context.active.filter((p) => p !== event.jobPath);
      enqueue.assign({ results: [...context.results, result], ...fillWindow(context, enqueue, { active, waiting: context.waiting, next: context.next }) });
      if (context.rerun.includes(event.jobPath) && !context.stopping) {
        enqueue.assign({ rerun: context.rerun.filter((p) => p !== event.jobPath) });
        enqueue.raise({ type: 'job.submit', jobPath: event.jobPath });
      }
    }),
    stopJobs: enqueueActions(({ enqueue, self }) => {
      // Job files not yet started are not started.
      enqueue.assign({ stopping: true, rerun: [], waiting: [], next: 0 });
      for (const [id, child] of Object.entries(self.getSnapshot().children)) {
        if (id.startsWith('job-') && child !== undefined) enqueue.sendTo(child, { type: 'job.stop' });
      }
    }),
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    ...input,
    active: [],
    rerun: [],
    waiting: [],
    next: 0,
    window: input.window ?? Math.max(2, 2 * input.pool.threads),
    results: [],
    spawned: 0,
    stopping: false,
    backupOutput: null,
  }),
  invoke: {
    id: 'backups',
    systemId: BACKUPS_SYSTEM_ID,
    src: 'backupCoordinator',
    input: ({ context }) => ({
      max: context.maxBackups,
      compat: context.compat,
      writer: context.backupWriter,
      report: context.report,
    }),
    onDone: { actions: assign({ backupOutput: ({ event }) => event.output }) },
  },
  initial: 'scanning',
  states: {
    scanning: {
      invoke: {
        id: 'listJobs',
        src: 'listJobs',
        input: ({ context }) => context.jobsDir,
        onDone: { target: 'running', actions: { type: 'queueJobs', params: ({ event }) => ({ paths: event.output }) } },
        onError: {
          target: 'running',
          // Recorded as a failed result, so the run does not exit 0 having run nothing.
          actions: [
            ({ context, event }) => context.report(`cannot read the jobs folder ${context.jobsDir}: ${describeError(event.error)}`),
            assign({ results: ({ context, event }) => [...context.results, { jobPath: context.jobsDir, error: describeError(event.error), applied: 0 }] }),
          ],
        },
      },
      on: { 'supervisor.stop': { actions: assign({ stopping: true }) } },
    },
    running: {
      always: { guard: 'allJobsDone', target: 'draining' },
      on: {
        'job.submit': { actions: { type: 'queueJobs', params: ({ event }) => ({ paths: [event.jobPath] }) } },
        'job.done': { actions: 'recordResult' },
        'job.failed': { actions: 'recordResult' },
        'supervisor.stop': { actions: 'stopJobs' },
      },
    },
    draining: {
      entry: sendTo('backups', { type: 'coordinator.drain' }),
      always: { guard: ({ context }) => context.backupOutput !== null, target: 'done' },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ results: context.results, backups: context.backupOutput ?? { completed: 0, failures: [] } }),
});

/** What observers (the progress line, the run's summary) read of a run, not the supervisor's context. */
export interface RunView {
  /** Every job ended so far, in the order they ended (a failed folder read is one too). */
  readonly results: readonly JobResult[];
  /** Job files running now. */
  readonly active: readonly string[];
  /** Job files started or waiting to start; null while the folder is being listed. */
  readonly filesTotal: number | null;
  /** The backups: live while the coordinator runs, its totals once it has ended. */
  readonly backups: BackupsView;
}

const NO_BACKUPS: BackupsView = { running: 0, waiting: 0, completed: 0, failed: 0 };

export function runView(supervisor: ActorRefFrom<typeof supervisorMachine>): RunView {
  const snapshot = supervisor.getSnapshot();
  const { context } = snapshot;
  const output = snapshot.status === 'done' ? snapshot.output : undefined;
  const ended = output?.backups ?? context.backupOutput;
  const coordinator = snapshot.children['backups'] as ActorRefFrom<typeof backupCoordinatorMachine> | undefined;
  const backups =
    ended !== null && ended !== undefined
      ? { running: 0, waiting: 0, completed: ended.completed, failed: ended.failures.length }
      : coordinator !== undefined && coordinator.getSnapshot() !== undefined
        ? backupsView(coordinator)
        : NO_BACKUPS;
  const scanning = snapshot.status === 'active' && snapshot.matches('scanning');
  return {
    results: output?.results ?? context.results,
    active: context.active,
    // Started, plus those waiting for room in the supervisor's window.
    filesTotal: scanning ? null : context.spawned + context.waiting.length - context.next,
    backups,
  };
}
