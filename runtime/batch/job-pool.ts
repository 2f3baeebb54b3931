/**
 * The job actors' pool (actors/job.ts JobPool) on piscina: a job's work half runs in a worker
 * thread (runtime/batch/job-worker.ts), talking to its actor over a MessageChannel of its own. One job
 * per worker thread at a time, at most max_threads threads.
 *
 * A worker thread costs about 60-100 ms of CPU to start, and a small job about a millisecond to
 * run: a queued job waits for a busy thread rather than starting a new one, unless its file is
 * big or the threads, once up, have ended no job for GROW_AFTER_MS (piscina alone would start a
 * thread for every job queued, up to max_threads).
 *
 * The store runs on the main thread, so on N cores at most N - 1 workers can be busy without
 * taking its core (`cpuLanes`). Past that, a big job queued while the store is busy applying
 * commands waits for a thread to end: one more would only compete for the cores (4 x 50,000 on
 * 2 cores: 0.65 s on one thread, 0.95 s on four). When the store goes quiet for GROW_AFTER_MS (the
 * jobs under way are at a WAIT), or the job queued is small, the pool grows as before.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { JobPool } from '../../actors/job.js';
import type { BusPort, JobSummary, JobTask } from '../../protocol/job-task.js';

const JOB_WORKER = new URL('./job-worker.js', import.meta.url).href;

/** A job file of this many bytes or more gets a thread of its own at once (up to max_threads). */
export const BIG_JOB_BYTES = 1 << 16;
/**
 * A queued job starts one more thread when no job has ended for this long since the last thread
 * came up: many times a small job's run (about a millisecond), and less than a thread's start.
 */
export const GROW_AFTER_MS = 25;

interface Queued {
  readonly task: JobTask;
  readonly big: boolean;
  readonly port: MessagePort;
  readonly signal: AbortSignal;
  readonly settle: { resolve(summary: JobSummary): void; reject(error: unknown): void };
  readonly onAbort: () => void;
}

/**
 * The pool of `threads` worker threads. The first starts now when `jobsFound` (the jobs of the
 * folder at start), so that it boots while the main thread loads the rest of the program.
 */
export function createJobPool(threads: number, jobsFound: number): PiscinaJobPool {
  return new PiscinaJobPool(new Piscina({ filename: JOB_WORKER, minThreads: jobsFound > 0 ? 1 : 0, maxThreads: threads, idleTimeout: 60_000, recordTiming: false }));
}

export class PiscinaJobPool implements JobPool {
  /** Jobs that may run at once now: grows, one thread at a time, up to max_threads. */
  private lanes = 1;
  /** The commands the store has applied, when told (`watchStore`): is it busy? */
  private applied: (() => number) | null = null;
  private appliedAtArm = 0;
  private running = 0;
  private readonly queue: Queued[] = [];
  private growTimer: NodeJS.Timeout | null = null;
  /** The pool's threads seen so far, and how many of them have not come up yet. */
  private readonly seen = new WeakSet<object>();
  private booting = 0;

  /**
   * Make it as soon as the Piscina is made: a thread that comes up unseen would hold back growth.
   * `cpuLanes`: how many jobs may compute at once beside the store's thread.
   */
  constructor(
    private readonly pool: Piscina,
    private readonly cpuLanes = Math.max(1, availableParallelism() - 1),
  ) {
    this.watchThreads();
  }

  /** `applied`: the store's count of commands applied, read to tell a busy store from a quiet one. */
  watchStore(applied: () => number): void {
    this.applied = applied;
  }

  get threads(): number {
    return this.pool.options.maxThreads;
  }

  /** Ends the threads; the jobs still queued here are never started. */
  async destroy(): Promise<void> {
    this.disarmGrowth();
    await this.pool.destroy();
  }

  start(task: Omit<JobTask, 'port'>, signal: AbortSignal): { port: BusPort; done: Promise<JobSummary> } {
    const { port1, port2 } = new MessageChannel();
    const full: JobTask = { ...task, port: port2 };
    const big = isBig(task.jobPath);
    if (this.running >= this.lanes && this.lanes < Math.min(this.threads, this.cpuLanes) && big) this.lanes++;
    if (this.running < this.lanes) return { port: port1, done: this.submit(full, port2, signal) };
    const done = new Promise<JobSummary>((resolve, reject) => {
      const queued: Queued = {
        task: full,
        big,
        port: port2,
        signal,
        settle: { resolve, reject },
        onAbort: () => {
          this.queue.splice(this.queue.indexOf(queued), 1);
          port2.close();
          reject(signal.reason);
        },
      };
      if (signal.aborted) return queued.onAbort();
      signal.addEventListener('abort', queued.onAbort, { once: true });
      this.queue.push(queued);
      this.armGrowth();
    });
    return { port: port1, done };
  }

  /** Runs the task on the pool now: piscina starts a thread for it when none is idle. */
  private submit(task: JobTask, port: MessagePort, signal: AbortSignal): Promise<JobSummary> {
    this.running++;
    // Aborting a running piscina task ends its worker thread (piscina replaces it).
    const done = this.pool.run(task, { transferList: [port], signal }) as Promise<JobSummary>;
    this.watchThreads();
    const ended = () => {
      this.running--;
      this.disarmGrowth();
      this.next();
    };
    done.then(ended, ended);
    return done;
  }

  private next(): void {
    while (this.running < this.lanes && this.queue.length > 0) {
      const queued = this.queue.shift()!;
      queued.signal.removeEventListener('abort', queued.onAbort);
      this.submit(queued.task, queued.port, queued.signal).then(queued.settle.resolve, queued.settle.reject);
    }
    this.armGrowth();
  }

  /** Notes the threads piscina has started (it starts them in `run`), until each comes up. */
  private watchThreads(): void {
    for (const thread of this.pool.threads) {
      if (this.seen.has(thread)) continue;
      this.seen.add(thread);
      this.booting++;
      let up = false;
      const cameUp = () => {
        if (up) return;
        up = true;
        this.booting--;
        // A thread's start is not a job's run: the clock starts again now.
        this.disarmGrowth();
        this.armGrowth();
      };
      // Up means ready to run a job: piscina's worker posts its first message (its "ready") once
      // it has loaded job-worker.ts. A thread that dies while starting no longer holds the clock back.
      thread.once('message', cameUp).once('exit', cameUp);
    }
  }

  /**
   * While jobs queue, no thread is starting and no job ends, one more thread every
   * GROW_AFTER_MS, up to max_threads.
   */
  private armGrowth(): void {
    if (this.growTimer !== null || this.booting > 0 || this.queue.length === 0 || this.lanes >= this.threads) return;
    this.appliedAtArm = this.applied?.() ?? 0;
    this.growTimer = setTimeout(() => {
      this.growTimer = null;
      // Every core busy (the store applying, the jobs computing) and a big job next: it waits.
      const storeBusy = this.applied !== null && this.applied() !== this.appliedAtArm;
      if (storeBusy && this.lanes >= this.cpuLanes && this.queue[0]?.big === true) return this.armGrowth();
      this.lanes++;
      this.next();
    }, GROW_AFTER_MS);
    // The jobs under way keep the process alive; this timer alone must not.
    this.growTimer.unref();
  }

  private disarmGrowth(): void {
    if (this.growTimer !== null) clearTimeout(this.growTimer);
    this.growTimer = null;
  }
}

function isBig(jobPath: string): boolean {
  try {
    return statSync(jobPath).size >= BIG_JOB_BYTES;
  } catch {
    // The worker reports the job it cannot read.
    return false;
  }
}
