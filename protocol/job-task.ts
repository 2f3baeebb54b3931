/**
 * The contract between a job actor (main thread) and its piscina worker (runtime/batch/job-worker.ts):
 * the task the worker is given and the summary it returns. The batches themselves travel on the
 * task's port (protocol/bus.ts).
 */
import type { Compat } from './compat.js';

/**
 * What the job actor and the worker need of a port (a worker_threads MessagePort has this shape):
 * bus messages go as bytes whose buffer is transferred, not copied.
 */
export interface BusPort {
  postMessage(bytes: Uint8Array, transferList: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (bytes: Uint8Array) => void): unknown;
  close(): void;
}

export interface JobTask {
  readonly jobPath: string;
  readonly outPath: string;
  readonly port: BusPort;
  readonly compat: Compat;
}

export interface JobSummary {
  readonly commands: number;
  readonly invalid: number;
  readonly backups: number;
  /** True when a stop request ended the job before the end of its file. */
  readonly stopped: boolean;
}
