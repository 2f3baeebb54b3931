/**
 * `npm run bench`: batch-mode start-up and throughput, each figure with its ratio measured in the
 * same run (hosts of this kind differ 2x from one day to the next). Every run is the real program
 * (`node runtime/main.js <dir> <max_backups> <max_threads> --quiet`) in a temporary folder, and
 * its CPU is the whole process tree's (every thread and backup child: the shell's `times`).
 *
 * - start-up: wall and CPU of the sample `jobs/` folder (and of the same without its WAIT and
 *   BACKUP lines) and of folders of 1 and 20 one-line jobs, against `node -e 0` (Node's own floor)
 *   and the design's floor (bench/pool-floor.ts: piscina and one worker thread that runs an empty
 *   task), which no run can go below; where Node has the compile cache, the one-line jobs again
 *   without it; on each Node binary given, the runs of all of them alternated;
 * - throughput: commands/s, microseconds of process CPU per command and peak RSS (VmHWM of the
 *   main process, which holds the worker threads) for one and eight 1,000,000-command jobs;
 * - the key space: eight 1,000,000-command jobs over 10,000, 100,000 (and with --full 1,000,000)
 *   keys, each beside Redis on the same number of keys in the same run (bench/redis-peer.ts);
 * - the C comparison: 4 x 50,000 commands, against the course's C implementations' 22.5 s;
 * - then BACKUP-heavy workloads, many one-line job files, and the pause a BACKUP of a
 *   1,000,000-key store causes.
 *
 *   npm run bench                 all of it
 *   npm run bench -- --quick      start-up, 4 x 50,000 (with and without BACKUPs), 1 x 1,000,000
 *   npm run bench -- --runs 5     more runs per workload (default 3; start-up runs 3x as many)
 *   npm run bench -- --full       the key space up to 1,000,000 keys (about 2 minutes more)
 *   npm run bench -- --key-space  only the key space (with --keys 10000,1000000: those key counts)
 *   npm run bench -- --node PATH  start-up on that Node binary too (repeatable), e.g.
 *                                 /var/cache/ist-kvs/node-24.22.3/bin/node, which .ci/run installs (as root)
 *   npm run bench -- --start-up   the start-up figures only
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describePauses, measureBackupPause } from './backup-pause.js';
import { measure, median, type Run } from './measure.js';
import { launchRedis } from '../scripts/redis-server.js';
import { redisBenchmark, redisBenchmarkArgs, type RedisRates } from './redis-peer.js';
import { writeJobFile, type Workload } from './workload.js';

const ENTRY = new URL('../../runtime/main.js', import.meta.url).pathname;
const SAMPLE_JOBS = new URL('../../jobs/', import.meta.url).pathname;
const POOL_FLOOR = new URL('./pool-floor.js', import.meta.url).pathname;
/** The course's C implementations on 4 x 50,000 commands, on this kind of machine (docs/DESIGN.md). */
const C_SECONDS = 22.5;

const runKvs = (dir: string, backups = 2, threads = 4, node = process.execPath, env = process.env) => measure([node, ENTRY, dir, String(backups), String(threads), '--quiet'], env);

interface Medians {
  readonly seconds: number;
  readonly cpu: number;
  readonly peakRssMb: number;
  readonly all: string;
}

async function repeat(runs: number, once: () => Promise<Run>): Promise<Medians> {
  const results: Run[] = [];
  for (let r = 0; r < runs; r++) results.push(await once());
  return medians(results);
}

function medians(results: readonly Run[]): Medians {
  return {
    seconds: median(results.map((x) => x.seconds)),
    cpu: median(results.map((x) => x.cpu)),
    peakRssMb: median(results.map((x) => x.peakRssMb)),
    all: results.map((x) => x.seconds.toFixed(2)).join(' '),
  };
}

function makeFolder(fill: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-'));
  fill(dir);
  return dir;
}

function withFolder<T>(fill: (dir: string) => void, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeFolder(fill);
  return use(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const ms = (seconds: number) => `${(seconds * 1000).toFixed(0).padStart(5)} ms`;

/** `count` job files of one line each. */
const oneLineJobs = (count: number) => (dir: string) => {
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `j${i}.job`), `WRITE [(k${i},${i})]\n`);
};

/** Whether `node` has the module compile cache (Node 22.8 and later). */
function hasCompileCache(node: string): boolean {
  return execFileSync(node, ['-p', "typeof require('node:module').enableCompileCache"], { encoding: 'utf8' }).trim() === 'function';
}

interface StartUpRow {
  readonly name: string;
  readonly once: () => Promise<Run>;
}

/**
 * Start-up on each Node binary in `nodes`, every row run `runs` times, the rows and the binaries
 * taking turns (so a change in the machine's load falls on all of them alike). Each row's ratio
 * is to `node -e 0` and to the design's floor of the same binary, from the same run.
 */
async function startUp(runs: number, nodes: readonly string[]): Promise<void> {
  const folders = {
    sample: makeFolder((dir) => cpSync(SAMPLE_JOBS, dir, { recursive: true, filter: (src) => !/\.(out|bck)$/.test(src) })),
    // The sample folder's floor is not Node's: a WAIT 200 and a backup child's Node start. The same jobs without those lines:
    plain: makeFolder((dir) => {
      for (const name of readdirSync(SAMPLE_JOBS).filter((n) => n.endsWith('.job'))) {
        const lines = readFileSync(join(SAMPLE_JOBS, name), 'latin1').split('\n');
        writeFileSync(join(dir, name), lines.filter((line) => !/^\s*(WAIT|BACKUP)\b/.test(line)).join('\n'), 'latin1');
      }
    }),
    one: makeFolder(oneLineJobs(1)),
    twenty: makeFolder(oneLineJobs(20)),
  };
  try {
    const table = nodes.map((node) => {
      const noCache = { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' };
      const rows: StartUpRow[] = [
        { name: 'node -e 0', once: () => measure([node, '-e', '0']) },
        // The design's own floor: no run can start below it (piscina and one worker thread, no job).
        { name: 'node + piscina + 1 empty task', once: () => measure([node, POOL_FLOOR]) },
        { name: 'the sample jobs/ folder', once: () => runKvs(folders.sample, 2, 4, node) },
        { name: '  the same without WAIT and BACKUP', once: () => runKvs(folders.plain, 2, 4, node) },
        { name: '1 one-line job', once: () => runKvs(folders.one, 2, 4, node) },
        { name: '20 one-line jobs', once: () => runKvs(folders.twenty, 2, 4, node) },
      ];
      if (hasCompileCache(node)) {
        rows.push({ name: '1 one-line job, no compile cache', once: () => runKvs(folders.one, 2, 4, node, noCache) });
        rows.push({ name: '20 one-line jobs, no compile cache', once: () => runKvs(folders.twenty, 2, 4, node, noCache) });
      }
      const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
      return { version, rows, results: rows.map((): Run[] => []) };
    });
    const turns = table.flatMap((entry) => entry.rows.map((row, i) => ({ row, results: entry.results[i]! })));
    for (let r = 0; r < runs; r++) {
      for (const turn of r % 2 === 0 ? turns : [...turns].reverse()) turn.results.push(await turn.row.once());
    }
    for (const { version, rows, results } of table) {
      const [node, floor, ...program] = results.map(medians);
      console.log(`start-up on Node ${version}, median of ${runs} alternated runs (wall, CPU of the whole process tree; ratios to node -e 0 | to the floor):`);
      console.log(`  ${rows[0]!.name.padEnd(36)} wall ${ms(node!.seconds)}                 CPU ${ms(node!.cpu)}`);
      rows.slice(1).forEach((row, i) => {
        const m = [floor, ...program][i]!;
        const ratios = (field: 'seconds' | 'cpu') => `${(m[field] / node![field]).toFixed(2)}x${i === 0 ? '        ' : ` | ${(m[field] / floor![field]).toFixed(2)}x`}`;
        console.log(`  ${row.name.padEnd(36)} wall ${ms(m.seconds)} (${ratios('seconds')})  CPU ${ms(m.cpu)} (${ratios('cpu')})  peak RSS ${m.peakRssMb.toFixed(0)} MB`);
      });
    }
  } finally {
    for (const dir of Object.values(folders)) rmSync(dir, { recursive: true, force: true });
  }
}

function totalCommands(workload: Workload): number {
  return workload.files * (workload.commands + (workload.backupEvery ? Math.floor(workload.commands / workload.backupEvery) : 0));
}

async function bench(name: string, workload: Workload, runs: number): Promise<Medians & { commands: number }> {
  const m = await withFolder(
    (dir) => {
      for (let f = 0; f < workload.files; f++) writeJobFile(join(dir, `job${f}.job`), workload, f + 1);
    },
    (dir) => repeat(runs, () => runKvs(dir)),
  );
  const commands = totalCommands(workload);
  console.log(
    `${name.padEnd(34)} ${String(commands).padStart(9)} cmds  ${m.seconds.toFixed(2).padStart(6)} s  ` +
      `${Math.round(commands / m.seconds).toLocaleString('en').padStart(10)} cmds/s  ` +
      `${((m.cpu / commands) * 1e6).toFixed(2)} µs CPU/cmd  peak RSS ${m.peakRssMb.toFixed(0)} MB  (median of ${runs}: ${m.all})`,
  );
  return { ...m, commands };
}

/**
 * The 8 x 1,000,000 mix at each key count, alternating with Redis on as many keys (a fresh
 * redis-server each): commands/s, key operations/s (a command names 2.5 keys on average) and
 * peak RSS, against Redis's GETs/s, as medians of `runs`.
 */
async function keySpace(keyCounts: readonly number[], runs: number): Promise<void> {
  console.log(`8 x 1,000,000 by key space, median of ${runs}; Redis: redis-benchmark -s <socket> ${redisBenchmarkArgs('<keys>').join(' ')}`);
  console.log(`  ${'keys'.padStart(9)}  ${'commands/s'.padStart(10)}  ${'key ops/s'.padStart(10)}  µs CPU/cmd  peak RSS  ${'Redis GET/s'.padStart(11)}  ${'SET/s'.padStart(9)}  key ops/s to Redis GET/s`);
  for (const keys of keyCounts) {
    const workload: Workload = { files: 8, commands: 1_000_000, keys, backupEvery: null };
    let keyOps = 0;
    const row = await withFolder(
      (dir) => {
        for (let f = 0; f < workload.files; f++) keyOps += writeJobFile(join(dir, `job${f}.job`), workload, f + 1);
      },
      async (dir) => {
        const redis = await launchRedis();
        try {
          const kvs: Run[] = [];
          const peer: RedisRates[] = [];
          for (let r = 0; r < runs; r++) {
            kvs.push(await runKvs(dir));
            peer.push(await redisBenchmark(redis.socket, keys));
          }
          return { kvs, peer };
        } finally {
          await redis.stop();
        }
      },
    );
    const commandRates = row.kvs.map((run) => totalCommands(workload) / run.seconds);
    const keyRate = median(row.kvs.map((run) => keyOps / run.seconds));
    const get = median(row.peer.map((rates) => rates.get));
    const n = (x: number, width: number) => Math.round(x).toLocaleString('en').padStart(width);
    console.log(
      `  ${n(keys, 9)}  ${n(median(commandRates), 10)}  ${n(keyRate, 10)}  ${((median(row.kvs.map((run) => run.cpu)) / totalCommands(workload)) * 1e6).toFixed(2).padStart(10)}  ` +
        `${median(row.kvs.map((run) => run.peakRssMb)).toFixed(0).padStart(5)} MB  ` +
        `${n(get, 11)}  ${n(median(row.peer.map((rates) => rates.set)), 9)}  ${(keyRate / get).toFixed(2)}x  (commands/s of each run: ${commandRates.map((x) => n(x, 0)).join(' ')})`,
    );
  }
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    runs: { type: 'string' },
    node: { type: 'string', multiple: true },
    'start-up': { type: 'boolean' },
    full: { type: 'boolean' },
    'key-space': { type: 'boolean' },
    keys: { type: 'string' },
  },
});
const runs = Number(values.runs ?? 3);
const keyCounts = values.keys !== undefined ? values.keys.split(',').map(Number) : values.full === true ? [10_000, 100_000, 1_000_000] : [10_000, 100_000];
if (keyCounts.some((k) => !Number.isInteger(k) || k < 1)) throw new Error(`--keys wants key counts such as 10000,1000000, not ${values.keys}`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`IST-KVS batch benchmark: max_threads 4, max_backups 2, node ${process.version}, ${new Date().toISOString()}, load average ${load()}`);
if (values['key-space'] === true) {
  await keySpace(keyCounts, runs);
  console.log(`load average at the end ${load()}`);
  process.exit(0);
}
await startUp(3 * runs, [process.execPath, ...(values.node ?? [])]);
if (values['start-up'] === true) process.exit(0);
const c = await bench('4 x 50,000 (the C comparison)', { files: 4, commands: 50_000, keys: 10_000, backupEvery: null }, runs);
console.log(`  the C implementations take ${C_SECONDS} s: ${(C_SECONDS / c.seconds).toFixed(0)}x faster (target 90x: at most 0.25 s)`);
await bench('1 x 1,000,000', { files: 1, commands: 1_000_000, keys: 10_000, backupEvery: null }, runs);
await bench('4 x 50,000, BACKUP every 10,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: 10_000 }, runs);
if (values.quick === true) {
  console.log(`load average at the end ${load()}`);
  process.exit(0);
}
await keySpace(keyCounts, runs);
await bench('4 x 50,000, BACKUP every 1,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: 1_000 }, runs);

/** Many one-line job files: the supervisor's cost per job file, which must stay flat. */
function manyFiles(count: number): Promise<Run> {
  return withFolder(oneLineJobs(count), (dir) => runKvs(dir));
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
console.log(`load average at the end ${load()}`);
