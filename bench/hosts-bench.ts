/**
 * `npm run bench:hosts`: the whole program on the in-memory store, on Redis and on a replicated
 * Redis behind Sentinels (`--store`), and notification latency across two hosts. Starts its own
 * redis-server on a unix socket, and a primary, two replicas and three Sentinels on loopback TCP
 * (scripts/redis-sentinel.ts), and stops them, with everything else it starts, at the end.
 *
 * The stores, each row of each figure (STORES below):
 *   memory        the in-memory store
 *   redis         redis+unix:// on its own redis-server
 *   redis tcp     redis:// on the Sentinels' primary (TCP, replicated, no record and no WAIT)
 *   sentinel r=1  redis-sentinel://...?replicas=1: records each batch, answers once a replica has it
 *   sentinel r=0  redis-sentinel://...?replicas=0: records each batch, answers at once
 * Each Redis row also prints its ratio to the `redis` row of the same run.
 *
 * 1. Commands/s of `node runtime/main.js <dir> 2 4 --quiet [--store URL]` on the benchmark
 *    workloads (bench/workload.ts), wall time of the whole run, median of the runs; each Redis
 *    run on a database emptied just before it (FLUSHDB, not timed).
 * 2. Notification latency across two hosts: host A is a real kvs server (its own process, `--store`)
 *    with raw clients on real FIFOs subscribed to a key (bench/notify-client.ts); host B is this
 *    process, applying one-WRITE batches through the same RedisStore a kvs host uses, one about
 *    every millisecond. The value written is B's process.hrtime (CLOCK_MONOTONIC, one clock for
 *    every process of the machine), so latency = when A's client read it - when B applied it.
 *
 *   npm run bench:hosts                 4 x 50,000 (with and without BACKUPs) and the latency
 *   npm run bench:hosts -- --quick      4 x 50,000 without BACKUPs and the latency
 *   npm run bench:hosts -- --full       also 8 x 1,000,000 (one run each)
 *   npm run bench:hosts -- --runs 5     runs per 4 x 50,000 figure (default 3)
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { BatchWriter } from '../protocol/batch-codec.js';
import { hasReader } from '../runtime/os/fifo.js';
import { RedisStore } from '../runtime/redis/store.js';
import { launchRedis, type RedisServer } from '../scripts/redis-server.js';
import { launchSentinels, type SentinelSetup } from '../scripts/redis-sentinel.js';
import { writeJobFile, type Workload } from './workload.js';
import { next, percentile } from './bench-client.js';

const ENTRY = new URL('../../runtime/main.js', import.meta.url).pathname;
const KEY = 'bench';
const LATENCY_WRITES = Number(process.env['BENCH_LATENCY_WRITES'] ?? 1000);
/** The database every Redis run uses, emptied before each run. */
const DB = 1;
/** The row the other Redis rows are compared with. */
const BASE = 'redis';
const CLIENT_COUNTS = [1, 16] as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const times = (x: number, base: number) => `${(x / base).toFixed(2)}x`;

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A row of every figure: `fresh()` empties the store's database and gives its `--store` URL (null: in-memory). */
interface Store {
  readonly label: string;
  readonly redis: boolean;
  fresh(): Promise<string | null>;
}

/** A store on a Redis database that `raw` (a plain connection to the primary) empties before each run. */
function onRedis(label: string, raw: Redis, url: string): Store {
  return {
    label,
    redis: true,
    fresh: async () => {
      await raw.select(DB);
      await raw.flushdb();
      return url;
    },
  };
}

async function runOnce(dir: string, store: string | null): Promise<number> {
  const args = [ENTRY, dir, '2', '4', '--quiet', ...(store === null ? [] : ['--store', store])];
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await exited(child);
  if (code !== 0) throw new Error(`kvs exited with ${code}${store === null ? '' : ` on ${store}`}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function throughput(stores: readonly Store[], name: string, workload: Workload, runs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-'));
  try {
    for (let f = 0; f < workload.files; f++) writeJobFile(join(dir, `job${f}.job`), workload, f + 1);
    const total = workload.files * (workload.commands + (workload.backupEvery ? Math.floor(workload.commands / workload.backupEvery) : 0));
    console.log(`${name}: ${total.toLocaleString('en')} commands, whole program, median of ${runs}`);
    let base: number | undefined;
    for (const store of stores) {
      const seconds: number[] = [];
      for (let r = 0; r < runs; r++) seconds.push(await runOnce(dir, await store.fresh()));
      const s = median(seconds);
      const rate = total / s;
      if (store.label === BASE) base = rate;
      console.log(
        `  ${store.label.padEnd(12)} ${s.toFixed(2).padStart(7)} s ${Math.round(rate).toLocaleString('en').padStart(10)} cmds/s  (${seconds.map((x) => x.toFixed(2)).join(' ')})` +
          (store.redis && store.label !== BASE && base !== undefined ? `  ${times(rate, base)} ${BASE}` : ''),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Done = { type: 'done'; latenciesUs: number[] };

/** Host A on `url` and B writing to it; the sorted latencies (µs) seen with each client count. */
async function crossHostLatency(url: string): Promise<Map<number, number[]>> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-'));
  const hostB = await RedisStore.open(url);
  const children: ChildProcess[] = [];
  const seen = new Map<number, number[]>();
  let hostA: ChildProcess | null = null;
  let hostAErr = '';
  try {
    const write = (value: string) => {
      const batch = new BatchWriter();
      batch.write([KEY, value]);
      return hostB.apply(batch.take());
    };
    await write('0');
    const fifo = join(dir, 'register');
    hostA = spawn(process.execPath, [ENTRY, dir, '2', '1', fifo, '--sessions', '32', '--quiet', '--store', url], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Host A's stderr (its "stopping (SIGTERM)" line at the end) is shown only if it fails.
    hostA.stderr!.on('data', (chunk: Buffer) => (hostAErr = (hostAErr + chunk.toString('latin1')).slice(-4096)));
    const deadline = Date.now() + 60_000;
    while (!(existsSync(fifo) && (await hasReader(fifo).catch(() => false)))) {
      if (hostA.exitCode !== null || Date.now() > deadline) throw new Error(`host A did not start; its stderr ended with:\n${hostAErr}`);
      await pause(20);
    }
    for (const clients of CLIENT_COUNTS) {
      const child = fork(new URL('./notify-client.js', import.meta.url), [fifo, String(clients), `h${clients}`, KEY]);
      children.push(child);
      await next(child, 'ready');
      child.send({ type: 'reset' });
      await next(child, 'reset');
      const done = next<Done>(child, 'done');
      child.send({ type: 'expect', count: LATENCY_WRITES });
      for (let i = 0; i < LATENCY_WRITES; i++) {
        await write(String(process.hrtime.bigint()));
        await pause(1);
      }
      seen.set(clients, (await done).latenciesUs.sort((a, b) => a - b));
      child.send({ type: 'exit' });
      await exited(child);
    }
    return seen;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (hostA !== null && hostA.exitCode === null) {
      hostA.kill('SIGTERM');
      const timer = setTimeout(() => hostA!.kill('SIGKILL'), 5000);
      const code = await exited(hostA);
      clearTimeout(timer);
      if (code !== 0) console.error(`host A exited with ${code}; its stderr ended with:\n${hostAErr}`);
    }
    await hostB.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function latencies(stores: readonly Store[]): Promise<void> {
  console.log(`notification latency across two hosts (B applies a WRITE on Redis, A's client reads it), ${LATENCY_WRITES} writes ~1 ms apart:`);
  const base = new Map<number, number[]>();
  for (const store of stores) {
    if (!store.redis) continue;
    const seen = await crossHostLatency((await store.fresh())!);
    if (store.label === BASE) for (const [clients, sorted] of seen) base.set(clients, sorted);
    for (const [clients, sorted] of seen) {
      const p50 = percentile(sorted, 50) / 1000;
      const p99 = percentile(sorted, 99) / 1000;
      const than = base.get(clients);
      console.log(
        `  ${store.label.padEnd(12)} ${String(clients).padStart(2)} client(s) on A: p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms (${sorted.length} notifications)` +
          (store.label === BASE || than === undefined ? '' : `  p50 ${times(p50 * 1000, percentile(than, 50))}, p99 ${times(p99 * 1000, percentile(than, 99))} ${BASE}`),
      );
    }
  }
}

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, full: { type: 'boolean' }, runs: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs wants a whole number of runs, not ${values.runs}`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
let redis: RedisServer | null = null;
let sentinels: SentinelSetup | null = null;
let raw: Redis | null = null;
try {
  redis = await launchRedis();
  sentinels = await launchSentinels();
  raw = new Redis({ path: redis.socket, protocol: 2, lazyConnect: true, retryStrategy: () => null, disableClientInfo: true });
  raw.on('error', () => undefined);
  await raw.connect();
  const primary = await sentinels.primaryPort();
  const rawPrimary = await sentinels.connect(primary);
  const STORES: readonly Store[] = [
    { label: 'memory', redis: false, fresh: async () => null },
    onRedis(BASE, raw, `${redis.url}?db=${DB}`),
    onRedis('redis tcp', rawPrimary, `redis://127.0.0.1:${primary}/${DB}`),
    onRedis('sentinel r=1', rawPrimary, `${sentinels.url}?db=${DB}&replicas=1`),
    onRedis('sentinel r=0', rawPrimary, `${sentinels.url}?db=${DB}&replicas=0`),
  ];
  console.log(
    `IST-KVS, many hosts on one store: node ${process.version}, ${new Date().toISOString()}, load average ${load()}; redis-server on a unix socket, ` +
      `and a primary, two replicas and three Sentinels on loopback TCP; max_threads 4, max_backups 2`,
  );
  await throughput(STORES, '4 x 50,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: null }, runs);
  if (values.quick !== true) await throughput(STORES, '4 x 50,000, BACKUP every 10,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: 10_000 }, runs);
  if (values.full === true) await throughput(STORES, '8 x 1,000,000', { files: 8, commands: 1_000_000, keys: 10_000, backupEvery: null }, 1);
  await latencies(STORES);
  console.log(`load average at the end ${load()}`);
} finally {
  raw?.disconnect();
  await sentinels?.stop();
  await redis?.stop();
}
