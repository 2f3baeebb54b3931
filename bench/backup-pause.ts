/**
 * How long a BACKUP pauses the jobs: fills a real Store with N keys, takes a snapshot and writes
 * it through a real backup child process while a writer keeps changing the store every turn, and
 * measures the longest gap between the writer's turns (the time a job's batch would wait).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Store } from '../actors/store.js';
import { BackupChildren } from '../runtime/backup-children.js';

const BASELINE_MS = 1000;

export interface PauseFigures {
  readonly keys: number;
  readonly snapshotMs: number;
  readonly maxPauseMs: number;
  readonly p99PauseMs: number;
  readonly totalMs: number;
  /** The same writer for the same time with no backup: what the store's size alone costs (GC). */
  readonly baselineMaxPauseMs: number;
  readonly baselineP99PauseMs: number;
}

/** Runs a writer (a job's batch of 64 writes per turn) until `until()`, returning the gaps between turns. */
async function writerGaps(store: Store, keys: number, until: () => boolean): Promise<number[]> {
  const gaps: number[] = [];
  let last = performance.now();
  for (let i = 0; !until(); ) {
    await nextTurn();
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    for (let j = 0; j < 64; j++, i++) store.set(`key${String((i * 7919) % keys).padStart(7, '0')}`, 'changed');
  }
  return gaps.sort((a, b) => a - b);
}

export async function measureBackupPause(keys: number): Promise<PauseFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-pause-'));
  const children = new BackupChildren(1);
  try {
    const store = new Store();
    for (let i = 0; i < keys; i++) store.set(`key${String(i).padStart(7, '0')}`, `v${String(i % 1_000_000).padStart(6, '0')}`);
    // The baseline first: the same writer with no backup. It also gives the heap time to settle
    // after the fill (the first scavenges promote the fill's last strings), which no run pays at a
    // BACKUP, and the child time to finish starting.
    const baselineEnd = performance.now() + BASELINE_MS;
    const baseline = await writerGaps(store, keys, () => performance.now() >= baselineEnd);

    const t0 = performance.now();
    const snapshot = store.snapshot();
    const snapshotMs = performance.now() - t0;
    let done = false;
    const backup = children.write({ path: join(dir, 'pause-1.bck'), separator: ',' }, snapshot).finally(() => (done = true));

    const gaps = await writerGaps(store, keys, () => done);
    const outcome = await backup;
    const totalMs = performance.now() - t0;
    if (!outcome.ok || outcome.pairs !== keys) throw new Error(`backup failed: ${JSON.stringify(outcome)}`);
    const p99 = (xs: number[]) => xs[Math.floor(xs.length * 0.99)] ?? 0;
    return {
      keys,
      snapshotMs,
      maxPauseMs: gaps[gaps.length - 1] ?? 0,
      p99PauseMs: p99(gaps),
      totalMs,
      baselineMaxPauseMs: baseline[baseline.length - 1] ?? 0,
      baselineP99PauseMs: p99(baseline),
    };
  } finally {
    children.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
