/**
 * A real Redis for tests (scripts/redis-server.ts launches it): `startRedis(t)` registers its stop
 * in `t.teardown`, so it runs even when the test fails.
 */
import type { ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { launchRedis, type RedisServer } from '../../scripts/redis-server.js';

export { launchRedis, type RedisServer } from '../../scripts/redis-server.js';

/** A Redis for one test, stopped in its teardown. */
export async function startRedis(t: ExecutionContext): Promise<RedisServer> {
  const server = await launchRedis();
  t.teardown(() => server.stop());
  return server;
}

/** A plain connection to look behind the program's back (database `db`), closed in the teardown. */
export async function rawRedis(t: { teardown(fn: () => unknown): void }, server: Pick<RedisServer, 'socket'>, db = 0): Promise<Redis> {
  const client = new Redis({ path: server.socket, db, protocol: 2, lazyConnect: true, retryStrategy: () => null, disableClientInfo: true });
  client.on('error', () => undefined);
  await client.connect();
  t.teardown(() => client.disconnect());
  return client;
}
