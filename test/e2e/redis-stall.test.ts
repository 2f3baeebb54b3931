/**
 * A Redis that stops answering without closing its connection (here a stopped process: SIGSTOP)
 * must not hold a run forever: with batches in flight and no answer for the stall deadline
 * (KVS_REDIS_STALL_MS, shortened here; 30 s by default) the store is lost, the job fails naming
 * it, and the run exits 1. Real redis-server, real kvs process.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { MAIN, jobsDir } from '../helpers/batch.js';
import { Proc, waitUntil } from '../helpers/processes.js';
import { startRedis, rawRedis } from '../helpers/redis-server.js';

test('a Redis stopped mid-run (SIGSTOP) is given up after the stall deadline: the run exits 1 naming it', async (t) => {
  const redis = await startRedis(t);
  // Resumed before the teardown's stop, which would otherwise wait on a stopped process.
  t.teardown(() => void process.kill(redis.pid, 'SIGCONT'));
  const probe = await rawRedis(t, redis, 3);
  // The first WRITE lands before the WAIT; the batch after it meets a stopped Redis.
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\nWAIT 3000\nWRITE [(k,2)]\nREAD [k]\n' });
  const proc = new Proc(
    spawn(process.execPath, [MAIN, dir, '1', '1', '--quiet', '--store', `${redis.url}?db=3`], {
      env: { ...process.env, KVS_REDIS_STALL_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  t.teardown(() => proc.stop());
  await waitUntil(`k written on Redis before the WAIT (kvs stderr: ${JSON.stringify(proc.stderr)})`, async () => (await probe.hget('{kvs}:data', 'k')) === '1');
  process.kill(redis.pid, 'SIGSTOP');
  const code = await proc.waitForExit(60_000);
  t.is(code, 1, proc.stderr);
  t.regex(proc.stderr, /no answer to a batch for 1 s: Redis is stopped or unreachable/);
  t.regex(proc.stderr, /job .*a\.job failed/);
});
