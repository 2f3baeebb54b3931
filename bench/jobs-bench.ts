/**
 * `npm run bench`: batch-mode throughput. Generates each workload into a temporary folder, runs
 * the real program on it (`node runtime/main.js <dir> <max_backups> <max_threads>`) several times,
 * and prints the median commands/s, wall time and peak RSS of the main process (VmHWM, which
 * includes the worker threads), then many one-line job files (2,500 against 10,000: linear would
 * be 4x), then the pause a BACKUP of a 1,000,000-key store causes.
 *
 *   npm run bench                 all workloads
 *   npm run bench -- --quick      the small ones only
 *   npm run bench -- --runs 5     more runs per workload (default 3)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describePauses, measureBackupPause } from './backup-pause.js';
import { writeJobFile, type Workload } from './workload.js';

const ENTRY = new URL('../../runtime/main.js', import.meta.url).pathname;

interface Run {
  readonly seconds: number;
  readonly peakRssMb: number;
}

function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function runOnce(dir: string, backups: number, threads: number): Promise<Run> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [ENTRY, dir, String(backups), String(threads), '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, peakRss(child.pid!))), 20);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  if (code !== 0) throw new Error(`kvs exited with ${code}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMb: peak };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(name: string, workload: Workload, runs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-'));
  try {
    for (let f = 0; f < workload.files; f++) writeJobFile(join(dir, `job${f}.job`), workload, f + 1);
    const total = workload.files * (workload.commands + (workload.backupEvery ? Math.floor(workload.commands / workload.backupEvery) : 0));
    const results: Run[] = [];
    for (let r = 0; r < runs; r++) results.push(await runOnce(dir, 2, 4));
    const seconds = median(results.map((x) => x.seconds));
    const rss = median(results.map((x) => x.peakRssMb));
    console.log(
      `${name.padEnd(34)} ${String(total).padStart(9)} cmds  ${seconds.toFixed(2).padStart(7)} s  ` +
        `${Math.round(total / seconds).toLocaleString('en').padStart(11)} cmds/s  peak RSS ${rss.toFixed(0)} MB` +
        `  (median of ${runs}: ${results.map((x) => x.seconds.toFixed(2)).join(' ')})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, runs: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
console.log(`IST-KVS batch benchmark: max_threads 4, max_backups 2, node ${process.version}`);
await bench('4 x 50,000 (the C comparison)', { files: 4, commands: 50_000, keys: 10_000, backupEvery: null }, runs);
await bench('4 x 50,000, BACKUP every 10,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: 10_000 }, runs);
if (values.quick !== true) {
  await bench('8 x 1,000,000', { files: 8, commands: 1_000_000, keys: 10_000, backupEvery: null }, runs);
}
await bench('4 x 50,000, BACKUP every 1,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: 1_000 }, runs);

/** Many one-line job files: the supervisor's cost per job file, which must stay flat. */
async function manyFiles(count: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-'));
  try {
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `j${i}.job`), `WRITE [(k${i},${i})]\n`);
    return await runOnce(dir, 2, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const few = await manyFiles(2_500);
const many = await manyFiles(10_000);
console.log(
  `one-line job files: 2,500 in ${few.seconds.toFixed(2)} s (peak RSS ${few.peakRssMb.toFixed(0)} MB), ` +
    `10,000 in ${many.seconds.toFixed(2)} s (peak RSS ${many.peakRssMb.toFixed(0)} MB): ` +
    `${(many.seconds / few.seconds).toFixed(1)}x the time for 4x the files`,
);

const pause = await measureBackupPause(1_000_000);
console.log(
  `BACKUP of a ${pause.keys.toLocaleString('en')}-key store: snapshot taken in ${pause.snapshotMs.toFixed(3)} ms, ` +
    `backup written in ${pause.totalMs.toFixed(0)} ms, a writer's turns meanwhile:\n` +
    `  while streaming: ${describePauses(pause.streaming)}\n` +
    `  with no backup:  ${describePauses(pause.baseline)}`,
);
