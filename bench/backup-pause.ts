/**
 * How long a BACKUP pauses the jobs: fills a real Store with N keys, takes a snapshot and writes
 * it through a real backup child process while a writer keeps changing the store every turn, and
 * measures the gaps between the writer's turns (the time a job's batch would wait).
 *
 * A gap can hold a garbage collection, which a store of a million keys pays with or without a
 * backup; V8 reports each one (PerformanceObserver 'gc'), so every gap is also given without the
 * collections inside it: that part is the backup's own work (the snapshot, then one chunk a turn).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MemorySnapshot, Store } from '../runtime/store/memory-store.js';
import { BackupChildren } from '../runtime/backup/children.js';
import { tuneHeap } from '../runtime/cli/heap.js';

const BASELINE_MS = 1000;

export interface Pauses {
  /** The longest gap between the writer's turns. */
  readonly maxMs: number;
  readonly p99Ms: number;
  /** The longest gap once the garbage collections inside it are taken out. */
  readonly maxWithoutGcMs: number;
  /** The longest single garbage collection in the period. */
  readonly longestGcMs: number;
}

export interface PauseFigures {
  readonly keys: number;
  readonly snapshotMs: number;
  readonly totalMs: number;
  readonly streaming: Pauses;
  /** The same writer for the same kind of period with no backup: what the store's size alone costs. */
  readonly baseline: Pauses;
}

interface Gap {
  readonly from: number;
  readonly to: number;
}

/** Runs a writer (a job's batch of 64 writes per turn) until `until()`, returning the gaps between turns. */
async function writerGaps(store: Store, keys: number, until: () => boolean): Promise<Gap[]> {
  const gaps: Gap[] = [];
  let last = performance.now();
  for (let i = 0; !until(); ) {
    await nextTurn();
    const now = performance.now();
    gaps.push({ from: last, to: now });
    last = now;
    for (let j = 0; j < 64; j++, i++) store.set(`key${String((i * 7919) % keys).padStart(7, '0')}`, 'changed');
  }
  return gaps;
}

function pauses(gaps: readonly Gap[], collections: readonly PerformanceEntry[]): Pauses {
  const from = gaps[0]?.from ?? 0;
  const to = gaps[gaps.length - 1]?.to ?? 0;
  const inPeriod = collections.filter((gc) => gc.startTime < to && gc.startTime + gc.duration > from);
  const lengths = gaps.map((gap) => gap.to - gap.from).sort((a, b) => a - b);
  let maxWithoutGcMs = 0;
  for (const gap of gaps) {
    let gcMs = 0;
    for (const gc of inPeriod) gcMs += Math.max(0, Math.min(gap.to, gc.startTime + gc.duration) - Math.max(gap.from, gc.startTime));
    maxWithoutGcMs = Math.max(maxWithoutGcMs, gap.to - gap.from - gcMs);
  }
  return {
    maxMs: lengths[lengths.length - 1] ?? 0,
    p99Ms: lengths[Math.floor(lengths.length * 0.99)] ?? 0,
    maxWithoutGcMs,
    longestGcMs: Math.max(0, ...inPeriod.map((gc) => gc.duration)),
  };
}

export async function measureBackupPause(keys: number): Promise<PauseFigures> {
  // The program's heap settings, so the collections measured here are the program's.
  tuneHeap();
  const dir = mkdtempSync(join(tmpdir(), 'kvs-pause-'));
  const children = new BackupChildren(1);
  const collections: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => collections.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  try {
    const store = new Store();
    for (let i = 0; i < keys; i++) store.set(`key${String(i).padStart(7, '0')}`, `v${String(i % 1_000_000).padStart(6, '0')}`);
    // The baseline first: the same writer with no backup. It also gives the heap time to settle
    // after the fill (the first scavenges promote the fill's last strings), which no run pays at a
    // BACKUP, and the child time to finish starting.
    const baselineEnd = performance.now() + BASELINE_MS;
    const baseline = await writerGaps(store, keys, () => performance.now() >= baselineEnd);

    const t0 = performance.now();
    const snapshot = new MemorySnapshot(store.snapshot());
    const snapshotMs = performance.now() - t0;
    let done = false;
    const backup = children.write({ path: join(dir, 'pause-1.bck'), compat: 'seed' }, snapshot).finally(() => (done = true));

    const streaming = await writerGaps(store, keys, () => done);
    const outcome = await backup;
    const totalMs = performance.now() - t0;
    if (!outcome.ok || outcome.pairs !== keys) throw new Error(`backup failed: ${JSON.stringify(outcome)}`);
    // GC entries are delivered after the collection, in a later turn: let the last ones arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { keys, snapshotMs, totalMs, streaming: pauses(streaming, collections), baseline: pauses(baseline, collections) };
  } finally {
    observer.disconnect();
    children.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line for a period's pauses. */
export function describePauses(p: Pauses): string {
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  return `longest ${ms(p.maxMs)}, p99 ${ms(p.p99Ms)}, longest without GC ${ms(p.maxWithoutGcMs)}, longest GC ${ms(p.longestGcMs)}`;
}
