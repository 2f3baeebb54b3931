/**
 * The job actors' pool (actors/job.ts JobPool) on piscina: a job's work half runs in a worker
 * thread (runtime/job-worker.ts), talking to its actor over a MessageChannel of its own.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { JobPool } from '../actors/job.js';
import type { BusPort, JobSummary, JobTask } from '../protocol/job-task.js';

export class PiscinaJobPool implements JobPool {
  constructor(private readonly pool: Piscina) {}

  get threads(): number {
    return this.pool.options.maxThreads;
  }

  start(task: Omit<JobTask, 'port'>, signal: AbortSignal): { port: BusPort; done: Promise<JobSummary> } {
    const { port1, port2 } = new MessageChannel();
    // Aborting a running piscina task ends its worker thread (piscina replaces it).
    const done = this.pool.run({ ...task, port: port2 } satisfies JobTask, { transferList: [port2], signal }) as Promise<JobSummary>;
    return { port: port1, done };
  }
}
