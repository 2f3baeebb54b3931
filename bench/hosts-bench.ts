/**
 * `npm run bench:hosts`: the whole program on the in-memory store and on Redis (`--store`), and
 * notification latency across two hosts. Starts its own redis-server on a unix socket and stops
 * it, with everything else it starts, at the end.
 *
 * 1. Commands/s of `node runtime/main.js <dir> 2 4 --quiet [--store URL]` on the benchmark
 *    workloads (bench/workload.ts), wall time of the whole run, median of the runs; each Redis
 *    run on an empty database.
 * 2. Notification latency across two hosts: host A is a real kvs server (its own process, `--store`)
 *    with raw clients on real FIFOs subscribed to a key (bench/notify-client.ts); host B is this
 *    process, applying one-WRITE batches through the same RedisStore a kvs host uses, one about
 *    every millisecond. The value written is B's process.hrtime (CLOCK_MONOTONIC, one clock for
 *    every process of the machine), so latency = when A's client read it - when B applied it.
 *
 *   npm run bench:hosts                 4 x 50,000 and the latency
 *   npm run bench:hosts -- --full       also 8 x 1,000,000 (one run each)
 *   npm run bench:hosts -- --runs 5     runs per 4 x 50,000 figure (default 3)
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BatchWriter } from '../protocol/batch-codec.js';
import { hasReader } from '../runtime/os/fifo.js';
import { RedisStore } from '../runtime/redis/store.js';
import { launchRedis, type RedisServer } from '../scripts/redis-server.js';
import { writeJobFile, type Workload } from './workload.js';
import { next, percentile } from './bench-client.js';

const ENTRY = new URL('../../runtime/main.js', import.meta.url).pathname;
const KEY = 'bench';
const LATENCY_WRITES = Number(process.env['BENCH_LATENCY_WRITES'] ?? 1000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function runOnce(dir: string, store: string | null): Promise<number> {
  const args = [ENTRY, dir, '2', '4', '--quiet', ...(store === null ? [] : ['--store', store])];
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await exited(child);
  if (code !== 0) throw new Error(`kvs exited with ${code}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

let nextDb = 1;
async function throughput(redis: RedisServer, name: string, workload: Workload, runs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-'));
  try {
    for (let f = 0; f < workload.files; f++) writeJobFile(join(dir, `job${f}.job`), workload, f + 1);
    const total = workload.files * (workload.commands + (workload.backupEvery ? Math.floor(workload.commands / workload.backupEvery) : 0));
    const line = async (label: string, store: () => string | null) => {
      const seconds: number[] = [];
      for (let r = 0; r < runs; r++) seconds.push(await runOnce(dir, store()));
      const s = median(seconds);
      console.log(
        `  ${label.padEnd(8)} ${s.toFixed(2).padStart(7)} s ${Math.round(total / s).toLocaleString('en').padStart(10)} cmds/s  (${seconds.map((x) => x.toFixed(2)).join(' ')})`,
      );
    };
    console.log(`${name}: ${total.toLocaleString('en')} commands, whole program, median of ${runs}`);
    await line('memory', () => null);
    // A database of its own per run: every run starts on an empty store, as the in-memory one does.
    await line('redis', () => `${redis.url}?db=${nextDb++ % 16}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Done = { type: 'done'; latenciesUs: number[] };


async function crossHostLatency(redis: RedisServer): Promise<void> {
  const url = `${redis.url}?db=15`;
  const dir = mkdtempSync(join(tmpdir(), 'kvs-bench-'));
  const hostB = await RedisStore.open(url);
  const children: ChildProcess[] = [];
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
    console.log(`notification latency across two hosts (B applies a WRITE on Redis, A's client reads it), ${LATENCY_WRITES} writes ~1 ms apart:`);
    for (const clients of [1, 16]) {
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
      const latencies = (await done).latenciesUs.sort((a, b) => a - b);
      console.log(
        `  ${String(clients).padStart(2)} client(s) on A: p50 ${(percentile(latencies, 50) / 1000).toFixed(3)} ms, p99 ${(percentile(latencies, 99) / 1000).toFixed(3)} ms (${latencies.length} notifications)`,
      );
      child.send({ type: 'exit' });
      await exited(child);
    }
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

const { values } = parseArgs({ options: { full: { type: 'boolean' }, runs: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
const redis = await launchRedis();
try {
  console.log(`IST-KVS, many hosts on one store: node ${process.version}, redis-server on a unix socket, max_threads 4, max_backups 2`);
  await throughput(redis, '4 x 50,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: null }, runs);
  await throughput(redis, '4 x 50,000, BACKUP every 10,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: 10_000 }, runs);
  if (values.full === true) await throughput(redis, '8 x 1,000,000', { files: 8, commands: 1_000_000, keys: 10_000, backupEvery: null }, 1);
  await crossHostLatency(redis);
} finally {
  await redis.stop();
}
