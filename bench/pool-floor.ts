/**
 * The start-up floor of the design, for `npm run bench` to set beside the program's start-up:
 * Node, piscina, and one worker thread that runs one empty task, then exits. No job runs, no
 * actor or store is loaded: whatever the program adds to this is its own cost.
 *
 *   node dist/bench/pool-floor.js          (in the worker thread, this same file is the task)
 */
import { isMainThread } from 'node:worker_threads';

/** The task: nothing. */
export default function empty(): null {
  return null;
}

if (isMainThread) {
  const { Piscina } = await import('piscina');
  const pool = new Piscina({ filename: import.meta.url, minThreads: 1, maxThreads: 1 });
  await pool.run(null);
  await pool.destroy();
}
