/**
 * What the notification benchmarks share: waiting for a message of a forked bench client
 * (bench/notify-client.ts), and percentiles of the latencies it reports.
 */
import type { ChildProcess } from 'node:child_process';

/** The next message of `type` from the child; rejects if the child exits first. */
export function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    const onExit = (code: number | null) => reject(new Error(`bench client exited with ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** The p-th percentile of sorted values (NaN for none). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
