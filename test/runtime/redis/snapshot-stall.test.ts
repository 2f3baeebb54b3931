/**
 * Reading a copy (a backup child, a big SHOW) from a Redis that stops answering without closing
 * the connection fails after the stall deadline instead of waiting forever. Real redis-server,
 * stopped with SIGSTOP.
 */
import test from 'ava';
import { connectRedis, closeRedis, parseRedisUrl } from '../../../runtime/redis/connection.js';
import { RedisSnapshot } from '../../../runtime/redis/snapshot.js';
import { startRedis } from '../../helpers/redis-server.js';

test('a snapshot read from a stopped Redis fails after the stall deadline, saying so', async (t) => {
  const redis = await startRedis(t);
  t.teardown(() => void process.kill(redis.pid, 'SIGCONT'));
  const client = await connectRedis(parseRedisUrl(redis.url), 'test', () => undefined);
  t.teardown(() => closeRedis(client));
  await client.hset('copy', 'a', '1', 'b', '2');
  const snapshot = new RedisSnapshot(client, { key: 'copy', pairs: 2 }, 'test', undefined, 300);
  process.kill(redis.pid, 'SIGSTOP');
  const error = await t.throwsAsync(snapshot.next(1000));
  t.regex(error?.message ?? '', /reading snapshot copy: no answer for 300 ms: Redis is stopped or unreachable/);
  const drop = await t.throwsAsync(snapshot.release());
  t.regex(drop?.message ?? '', /dropping snapshot copy: no answer for 300 ms/);
});
