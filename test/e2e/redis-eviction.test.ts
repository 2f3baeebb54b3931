/**
 * A Redis that may evict any key (`maxmemory` set with an `allkeys-*` policy, as a cache is often
 * configured) would drop the whole store, `{kvs}:data`, when it fills, and the jobs would go on
 * against an empty keyspace with exit 0: a READ after a WRITE says KVSERROR. Such a Redis is
 * refused at start, in one line that names the setting; one that evicts only keys with a TTL
 * (`volatile-*`, which the store's data never has) is used. Real redis-server, on a unix socket.
 */
import test from 'ava';
import { jobsDir, listDir, readBytes, runKvs, stderrLines } from '../helpers/batch.js';
import { launchRedis, type RedisServer, rawRedis } from '../helpers/redis-server.js';
import { join } from 'node:path';

let shared: RedisServer;
test.before(async () => {
  shared = await launchRedis();
});
test.after.always(async () => {
  await shared?.stop();
});

const raw = (t: { teardown(fn: () => unknown): void }) => rawRedis(t, shared);

test.serial('a Redis that may evict the store\'s data (maxmemory with allkeys-lru) is refused at start in one line, nothing run', async (t) => {
  const redis = await raw(t);
  await redis.config('SET', 'maxmemory', '64mb');
  await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
  t.teardown(() => redis.config('SET', 'maxmemory', '0').then(() => redis.config('SET', 'maxmemory-policy', 'noeviction')));
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\nREAD [k]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--store', `${shared.url}?db=1`]);
  t.is(result.code, 1, result.stderr);
  const said = stderrLines(result);
  t.is(said.length, 1, result.stderr);
  t.regex(said[0] ?? '', /maxmemory-policy is allkeys-lru/);
  t.deepEqual(listDir(dir), ['a.job'], 'no job ran');
  t.is(await redis.select(1).then(() => redis.exists('{kvs}:data')), 0);
});

test.serial('a Redis that evicts only keys with a TTL (volatile-lru) is used: the data has none', async (t) => {
  const redis = await raw(t);
  await redis.config('SET', 'maxmemory', '64mb');
  await redis.config('SET', 'maxmemory-policy', 'volatile-lru');
  t.teardown(() => redis.config('SET', 'maxmemory', '0').then(() => redis.config('SET', 'maxmemory-policy', 'noeviction')));
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\nREAD [k]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--quiet', '--store', `${shared.url}?db=2`]);
  t.is(result.code, 0, result.stderr);
  t.is(readBytes(join(dir, 'a.out')), '[(k,1)]\n');
});

test.serial('allkeys-lru with no maxmemory never evicts, and is used', async (t) => {
  const redis = await raw(t);
  await redis.config('SET', 'maxmemory', '0');
  await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
  t.teardown(() => redis.config('SET', 'maxmemory-policy', 'noeviction'));
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\nREAD [k]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--quiet', '--store', `${shared.url}?db=3`]);
  t.is(result.code, 0, result.stderr);
  t.is(readBytes(join(dir, 'a.out')), '[(k,1)]\n');
});
