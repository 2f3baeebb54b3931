/**
 * Job-file generators for the benchmarks: the mix the C implementations were measured on
 * (docs/DESIGN.md section 5): keys key00000..key09999 (or as many as `keys` says), 60% WRITE of 1-4 pairs, 30% READ of 1-4 keys,
 * 10% DELETE of 1-4 keys, values `v` + 6 digits; optionally a BACKUP every N commands.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface Workload {
  readonly files: number;
  readonly commands: number;
  readonly keys: number;
  readonly backupEvery: number | null;
}

/** A small fast deterministic generator (mulberry32), so runs are comparable. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes one job file; returns the number of keys its commands name (a WRITE's pairs, a READ's or DELETE's keys). */
export function writeJobFile(path: string, workload: Workload, seed: number): number {
  const next = random(seed);
  const key = () => `key${String(Math.floor(next() * workload.keys)).padStart(5, '0')}`;
  const value = () => `v${String(Math.floor(next() * 1_000_000)).padStart(6, '0')}`;
  const fd = openSync(path, 'w');
  let text = '';
  let keys = 0;
  for (let i = 1; i <= workload.commands; i++) {
    const roll = next();
    const n = 1 + Math.floor(next() * 4);
    keys += n;
    if (roll < 0.6) {
      text += 'WRITE [';
      for (let j = 0; j < n; j++) text += `(${key()},${value()})`;
      text += ']\n';
    } else {
      text += roll < 0.9 ? 'READ [' : 'DELETE [';
      for (let j = 0; j < n; j++) text += (j > 0 ? ',' : '') + key();
      text += ']\n';
    }
    if (workload.backupEvery !== null && i % workload.backupEvery === 0) text += 'BACKUP\n';
    if (text.length > 1 << 20) {
      writeSync(fd, text);
      text = '';
    }
  }
  writeSync(fd, text);
  closeSync(fd);
  return keys;
}
