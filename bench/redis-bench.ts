/**
 * `npm run bench:redis`: batch apply throughput of the Redis store against the in-memory store,
 * on the benchmark workload (bench/workload.ts), batched as the job worker batches (up to 4096
 * operations, a BACKUP ends a batch, READ and DELETE keys sorted). Starts its own redis-server
 * on a unix socket and stops it at the end. It measures the stores alone: the job files are
 * parsed into batches first (the 1,000,000-command files a batch at a time, parsing included
 * for both stores alike).
 *
 *   npm run bench:redis                  4 x 50,000 (plain, with a change subscriber, with BACKUPs)
 *   npm run bench:redis -- --full        also 8 x 1,000,000
 *   npm run bench:redis -- --runs 5      runs per figure (default 3; the median is printed)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BatchWriter } from '../protocol/batch-codec.js';
import { compareKeys } from '../protocol/keys.js';
import { parseLine } from '../protocol/job-language.js';
import { Store } from '../runtime/store/memory-store.js';
import { RedisStore } from '../runtime/redis/store.js';
import { ChangeFeed } from '../runtime/redis/changes.js';
import { launchRedis, type RedisServer } from '../scripts/redis-server.js';
import { writeJobFile, type Workload } from './workload.js';

const MAX_BATCH_OPS = 4096;
/** As many batches in flight per job as the job worker keeps. */
const IN_FLIGHT = 3;

interface Batch {
  /** The batch's bytes, as the job worker sends them (protocol/batch-codec.ts). */
  readonly bytes: Uint8Array;
  readonly commands: number;
}

/** The job worker's batching of one job file's text, a batch at a time: a SHOW or a BACKUP ends its batch. */
function* batches(text: string): Generator<Batch> {
  const w = new BatchWriter();
  let tokens = 0;
  let backups = 0;
  for (const line of text.split('\n')) {
    const parsed = parseLine(line);
    if (parsed === null || parsed.kind === 'invalid' || parsed.kind === 'wait' || parsed.kind === 'help') continue;
    if (parsed.kind === 'write') {
      w.write(parsed.pairs);
      tokens += parsed.pairs.length;
    } else if (parsed.kind === 'read' || parsed.kind === 'delete') {
      const keys = [...parsed.keys].sort(compareKeys);
      if (parsed.kind === 'read') w.read(keys);
      else w.delete(keys);
      tokens += keys.length;
    } else if (parsed.kind === 'show') w.show();
    else w.backup(++backups);
    if (tokens + 2 * w.commands >= MAX_BATCH_OPS || parsed.kind === 'backup' || parsed.kind === 'show') {
      const commands = w.commands;
      yield { bytes: w.take(), commands };
      tokens = 0;
    }
  }
  if (w.commands > 0) {
    const commands = w.commands;
    yield { bytes: w.take(), commands };
  }
}

type Source = () => Iterable<Batch>;

async function runMemory(sources: Source[]): Promise<number> {
  const store = new Store();
  const iterators = sources.map((s) => s()[Symbol.iterator]());
  let commands = 0;
  const started = process.hrtime.bigint();
  // Round robin over the jobs, a batch each, as the store actor sees them arrive.
  for (let live = iterators.length; live > 0; ) {
    live = 0;
    for (const it of iterators) {
      const step = it.next();
      if (step.done === true) continue;
      live++;
      store.apply(step.value.bytes, () => {
        const snapshot = store.snapshot();
        for (let kv = snapshot.next(10_000); kv !== null; kv = snapshot.next(10_000));
        snapshot.release();
      });
      commands += step.value.commands;
    }
  }
  return commands / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** CPU seconds redis-server has used (user + system, from /proc; Linux clock ticks of 1/100 s). */
function redisCpuSeconds(server: RedisServer): number {
  const fields = readFileSync(`/proc/${server.pid}/stat`, 'latin1').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A timed Redis run: its rate, and redis-server's own CPU over it (what bounds any client of one primary). */
interface RedisRun {
  rate: number;
  commands: number;
  redisCpuSeconds: number;
}

async function runRedis(server: RedisServer, sources: Source[], subscribe: boolean): Promise<RedisRun> {
  const namespace = `bench${process.hrtime.bigint()}`;
  const store = await RedisStore.open(server.url, { namespace });
  let heard = 0;
  const feed = subscribe ? await ChangeFeed.open(server.url, () => heard++, { namespace }) : null;
  const backups: Promise<unknown>[] = [];
  try {
    let commands = 0;
    const started = process.hrtime.bigint();
    const cpuBefore = redisCpuSeconds(server);
    await Promise.all(
      sources.map(async (source) => {
        const window: Promise<unknown>[] = [];
        for (const batch of source()) {
          window.push(
            store.apply(batch.bytes, (_n, snapshot) => backups.push(snapshot.backupText('seed'))).then(() => (commands += batch.commands)),
          );
          if (window.length >= IN_FLIGHT) await window.shift();
        }
        await Promise.all(window);
      }),
    );
    await Promise.all(backups);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { rate: commands / seconds, commands, redisCpuSeconds: redisCpuSeconds(server) - cpuBefore };
  } finally {
    await feed?.close();
    await store.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (x: number) => `${Math.round(x).toLocaleString('en').padStart(10)} cmds/s`;

async function bench(server: RedisServer, name: string, workload: Workload, runs: number, withFeed: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-redis-bench-'));
  try {
    const texts: string[] = [];
    for (let f = 0; f < workload.files; f++) {
      const path = join(dir, `job${f}.job`);
      writeJobFile(path, workload, f + 1);
      texts.push(readFileSync(path, 'latin1'));
    }
    // Small files are parsed once, outside the timing; big ones a batch at a time.
    const small = workload.commands <= 100_000;
    const parsed = small ? texts.map((t) => [...batches(t)]) : [];
    const sources: Source[] = texts.map((t, i) => (small ? () => parsed[i]! : () => batches(t)));
    const memory: number[] = [];
    const redis: RedisRun[] = [];
    const fed: number[] = [];
    for (let r = 0; r < runs; r++) {
      memory.push(await runMemory(sources));
      redis.push(await runRedis(server, sources, false));
      if (withFeed) fed.push((await runRedis(server, sources, true)).rate);
    }
    const m = median(memory);
    const x = median(redis.map((run) => run.rate));
    console.log(`${name}`);
    console.log(`  in-memory store            ${rate(m)}`);
    console.log(`  redis store                ${rate(x)}  (${(m / x).toFixed(1)}x slower)`);
    // Over the runs of the store alone (a subscriber's runs also pay for delivering the changes).
    const usPerCommand = (redis.reduce((sum, run) => sum + run.redisCpuSeconds, 0) * 1e6) / redis.reduce((sum, run) => sum + run.commands, 0);
    console.log(`    redis-server's own CPU: ${usPerCommand.toFixed(2)} us per command, so one primary applies at most ${rate(1e6 / usPerCommand).trim()} (half the in-memory rate would need ${((2 * 1e6) / m).toFixed(2)} us)`);
    if (withFeed) console.log(`  redis store + a subscriber ${rate(median(fed))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { full: { type: 'boolean' }, runs: { type: 'string' } } });
const runs = Number(values.runs ?? 3);
const server = await launchRedis();
try {
  const version = /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  console.log(`IST-KVS store benchmark: batches of up to ${MAX_BATCH_OPS} ops, ${IN_FLIGHT} in flight per job, node ${process.version}, redis-server ${version} on a unix socket; median of ${runs}`);
  await bench(server, '4 x 50,000', { files: 4, commands: 50_000, keys: 10_000, backupEvery: null }, runs, true);
  await bench(server, '4 x 50,000, BACKUP every 10,000 (copies read and formatted)', { files: 4, commands: 50_000, keys: 10_000, backupEvery: 10_000 }, runs, false);
  if (values.full === true) await bench(server, '8 x 1,000,000', { files: 8, commands: 1_000_000, keys: 10_000, backupEvery: null }, runs, true);
} finally {
  await server.stop();
}
