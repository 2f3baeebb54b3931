/**
 * Batch mode with `--store` on a real redis-server (Debian's, on a unix socket in a temporary
 * folder): the conformance cases and the concurrency model check give what the in-memory store
 * gives, a BACKUP equals the SHOW before it, and the faults are one clear line and exit 1.
 * Each case has a database of its own, so the cases run at once on one Redis, each on an empty store.
 */
import test from 'ava';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readBytes, runKvs, startKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { conformanceCases } from '../../runtime/check/public-cases.js';
import { waitUntilSeen } from '../helpers/processes.js';
import { launchRedis, startRedis, type RedisServer, rawRedis } from '../helpers/redis-server.js';
import { modelCheckRun } from '../helpers/model-run.js';
import type { WorkloadShape } from '../helpers/serial-check.js';

let shared: RedisServer;
test.before(async () => {
  shared = await launchRedis();
});
test.after.always(async () => {
  await shared?.stop();
});

/** Databases 1..15 of the shared Redis, one per test (0 is left alone). */
let nextDb = 1;
function storeUrl(): string {
  const db = nextDb++;
  if (db > 15) throw new Error('more Redis databases asked for than a default redis-server has');
  return `${shared.url}?db=${db}`;
}

/** A plain connection to look behind the program's back. */
const raw = rawRedis;

for (const { name, folder, jobs, args, outputs } of conformanceCases('.expected')) {
  test(`on Redis, conformance case ${name} writes exactly its expected files`, async (t) => {
    const dir = tempDir(t);
    for (const job of jobs) copyFileSync(join(folder, job), join(dir, job));
    const result = await runKvs(t, [dir, ...args, '--store', storeUrl()]);
    t.is(result.code, 0, result.stderr);
    t.deepEqual(listDir(dir), [...jobs, ...outputs.keys()].sort(), 'the job writes exactly the expected files');
    for (const [output, fixture] of outputs) t.is(readBytes(join(dir, output)), readBytes(fixture), output);
  });
}

test('on Redis, jobs on shared keys fit one serial order of their commands', async (t) => {
  const shape: WorkloadShape = { jobs: 6, commands: 800, groups: 5, keysPerGroup: 3, waitEvery: 40, backupEvery: 200 };
  await modelCheckRun(t, 20243, shape, ['2', '4', '--store', storeUrl()]);
});

test('on Redis, a BACKUP holds exactly the SHOW just before it, past the inline SHOW size, bytes above 0x7f included', async (t) => {
  const url = storeUrl();
  const pairs: string[] = [];
  for (let i = 0; i < 2500; i++) pairs.push(`(k${i}\xe9,v${i}\xff)`);
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += 100) lines.push(`WRITE [${pairs.slice(i, i + 100).join('')}]`);
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': `${lines.join('\n')}\nDELETE [k7\xe9]\nSHOW\nBACKUP\n` });
  const result = await runKvs(t, [dir, '1', '1', '--store', url]);
  t.is(result.code, 0, result.stderr);
  const out = readBytes(join(dir, 'a.out'))!;
  t.is(out.split('\n').length - 1, 2499);
  t.is(readBytes(join(dir, 'a-1.bck')), out);
  const client = await raw(t, shared, Number(/db=(\d+)/.exec(url)![1]));
  t.deepEqual(await client.keys('*'), ['{kvs}:data'], 'the SHOW and BACKUP copies are gone');
});

test('Redis unreachable at start: one line naming the store, exit 1, nothing written', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\n' });
  const socket = join(tempDir(t), 'no-redis.sock');
  const result = await runKvs(t, [dir, '1', '1', '--store', `redis+unix://${socket}`]);
  t.is(result.code, 1);
  t.is(result.stderr, `kvs: redis store redis+unix://${socket}: cannot connect: connect ENOENT ${socket}\n`);
  t.deepEqual(listDir(dir), ['a.job']);
});

test('a --store that is not a store URL is a bad argument', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--store', 'redis://localhost/zero']);
  t.is(result.code, 2);
  t.regex(result.stderr, /^kvs: store redis:\/\/localhost\/zero: database 'zero' is not a number\nkvs: run 'node runtime\/main.js --help'/);
});

test('Redis killed mid-run: the job fails naming the store, its .out ends after the last applied batch, exit 1', async (t) => {
  const redis = await startRedis(t);
  const steps = 2000;
  const lines: string[] = [];
  const expected: string[] = [];
  for (let i = 1; i <= steps; i++) {
    lines.push(`WRITE [(k,${i})]`, `READ [k]`, 'WAIT 5');
    expected.push(`[(k,${i})]\n`, 'Waiting...\n');
  }
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': `${lines.join('\n')}\n` });
  const run = startKvs(t, [dir, '1', '1', '--store', redis.url]);
  const client = await raw(t, redis);
  await waitUntilSeen('the job to have applied 20 writes', async () => {
    const value = await client.hget('{kvs}:data', 'k').catch(() => null);
    return { ok: Number(value) >= 20, seen: `k = ${value}` };
  });
  await redis.kill();
  const result = await run.result;
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, new RegExp(`kvs: redis store ${redis.url.replace(/[+/.]/g, '\\$&')}: connection.* lost`));
  t.regex(result.stderr, /kvs: job \S+a\.job failed: redis store \S+: connection/);
  const out = readBytes(join(dir, 'a.out'))!;
  const whole = expected.join('');
  t.true(whole.startsWith(out), 'the .out is the start of the whole run, nothing torn or skipped');
  t.true(out.length >= expected.slice(0, 2 * 19).join('').length, `the .out holds the batches answered before the kill (${out.length} bytes)`);
  t.true(out === '' || out.endsWith('\n'), 'ends at a whole line');
  t.false(existsSync(join(dir, 'a-1.bck')));
});
