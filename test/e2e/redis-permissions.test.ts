/**
 * A batch on Redis is whole or not at all, whatever the Redis user may do: real ACL users on a
 * real redis-server (over TCP: a URL names its user there). A host whose user may not make every
 * call the store makes is refused at start (one line naming what is missing, exit 1, nothing
 * written), in batch and server mode; an ACL taken away under a running store refuses a batch
 * whole, never after its first write.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Op } from '../../protocol/batch-codec.js';
import { applyFlat, type FlatValue } from '../helpers/flat-batch.js';
import { RedisStore } from '../../runtime/redis/store.js';
import { listDir, runKvs, startKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { launchRedis, rawRedis, type RedisServer } from '../helpers/redis-server.js';
import type { Redis } from 'ioredis';

let shared: RedisServer;
let admin: Redis;
test.before(async () => {
  shared = await launchRedis(10_000, { tcp: true });
  // Disconnected in test.after.always, below.
  admin = await rawRedis({ teardown: () => undefined }, shared);
});
test.after.always(async () => {
  admin?.disconnect();
  await shared?.stop();
});

let counter = 0;
/** A fresh ACL user with these rules (each test its own user and namespace-free database). */
async function user(rules: readonly string[]): Promise<{ name: string; url: string; db: number }> {
  const n = ++counter;
  const name = `u${n}`;
  await admin.call('ACL', 'SETUSER', name, 'on', '>pw', ...rules);
  return { name, url: `redis://${name}:pw@127.0.0.1:${shared.port}/${n}`, db: n };
}

/** What a batch of three writes and a BACKUP leaves in database `db`. */
async function keysIn(t: ExecutionContext, db: number): Promise<string[]> {
  const client = await rawRedis(t, shared, db);
  return (await client.keys('*')).sort();
}

const FULL = ['~*', '&*', '+@all'];

const refusals: readonly { readonly what: string; readonly rules: readonly string[]; readonly names: RegExp }[] = [
  { what: 'no pub/sub channel (a new Redis 7 user)', rules: ['~*', '+@all'], names: /may not run PUBLISH \{kvs\}:changes@\d+ m, SUBSCRIBE \{kvs\}:changes@\d+:/ },
  { what: 'PUBLISH denied', rules: [...FULL, '-publish'], names: /may not run PUBLISH \{kvs\}:changes@\d+ m:/ },
  { what: 'the copy keys denied', rules: ['~{kvs}:data', '&*', '+@all'], names: /may not run COPY \{kvs\}:data \{kvs\}:copy:[-0-9a-f]{36}, PEXPIRE \{kvs\}:copy:[-0-9a-f]{36} 1, / },
  { what: 'COPY denied', rules: [...FULL, '-copy'], names: /may not run COPY \{kvs\}:data \{kvs\}:copy:[-0-9a-f]{36}:/ },
  { what: 'EVALSHA denied', rules: [...FULL, '-evalsha'], names: /may not run EVALSHA:/ },
  { what: 'SCRIPT LOAD denied', rules: [...FULL, '-script|load'], names: /may not run SCRIPT LOAD:/ },
  { what: 'the data hash read-only', rules: ['%R~{kvs}:data', '~{kvs}:copy:*', '&*', '+@all'], names: /may not run HSET \{kvs\}:data f v, HDEL \{kvs\}:data f, EVALSHA 0+ 2 \{kvs\}:data / },
];

for (const { what, rules, names } of refusals) {
  test(`batch mode, ${what}: one line naming what is missing, exit 1, nothing written`, async (t) => {
    const { name, url, db } = await user(rules);
    const dir = tempDir(t);
    writeFiles(dir, { 'a.job': 'WRITE [(a,1)(b,2)(c,3)]\nBACKUP\nDELETE [a,b,c]\n' });
    const result = await runKvs(t, [dir, '1', '1', '--store', url]);
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, new RegExp(`^kvs: redis store redis://${name}@127\\.0\\.0\\.1:\\d+/${db}: the Redis user '${name}' may not run `));
    t.regex(result.stderr, names);
    t.is(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
    t.deepEqual(listDir(dir), ['a.job'], 'no .out, no .bck');
    t.deepEqual(await keysIn(t, db), [], 'nothing written to Redis');
  });
}

test('server mode, no pub/sub channel: one line, exit 1, no registration FIFO made', async (t) => {
  const { name, url } = await user(['~*', '+@all']);
  const dir = tempDir(t);
  const fifo = join(tempDir(t), 'register');
  const result = await startKvs(t, [dir, '1', '1', fifo, '--store', url]).result;
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, new RegExp(`^kvs: redis store [^\\n]*: the Redis user '${name}' may not run PUBLISH [^\\n]*\\n$`));
  t.false(existsSync(fifo));
  t.deepEqual(listDir(dir), []);
});

test('a user allowed everything the store needs, and nothing more, runs the batch', async (t) => {
  const { url, db } = await user(['~{kvs}:*', '&{kvs}:changes@*', '-@all', '+info', '+select', '+client|setname', '+script|load', '+evalsha', '+type', '+exists', '+hlen', '+hgetall', '+hset', '+publish', '+hmget', '+hdel', '+copy', '+pexpire', '+hexists', '+hscan', '+unlink', '+subscribe', '+quit', '+ping']);
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)(b,2)(c,3)]\nBACKUP\nDELETE [b]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--store', url]);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(listDir(dir), ['a-1.bck', 'a.job', 'a.out']);
  t.deepEqual(await keysIn(t, db), ['{kvs}:data']);
});

/** A batch of three writes, a DELETE and a BACKUP, as the store takes it. */
const BATCH: FlatValue[] = [Op.Write, 3, 'a', '1', 'b', '2', 'c', '3', Op.Delete, 1, 'old', Op.Backup, 1];

/** Rights taken away under a running store: the next batch is refused whole, before its first write. */
for (const { what, taken } of [
  { what: 'its channel', taken: ['resetchannels'] },
  { what: 'PUBLISH', taken: ['-publish'] },
  { what: 'COPY', taken: ['-copy'] },
  { what: 'PEXPIRE', taken: ['-pexpire'] },
  { what: 'HDEL', taken: ['-hdel'] },
]) {
  test(`${what} taken from a running store's user: the next batch is refused whole, nothing of it applied`, async (t) => {
    const { name, url, db } = await user(FULL);
    const store = await RedisStore.open(url);
    t.teardown(() => store.close());
    await applyFlat(store, [Op.Write, 1, 'old', '0']);
    await admin.call('ACL', 'SETUSER', name, ...taken);
    const error = await t.throwsAsync(applyFlat(store, BATCH));
    t.is((error as { code?: string }).code, 'REDIS_STORE_REFUSED');
    t.regex(error!.message, /batch refused, nothing applied: the Redis user may not run /);
    const client = await rawRedis(t, shared, db);
    t.deepEqual(await client.hgetall('{kvs}:data'), { old: '0' }, 'none of the batch');
    t.deepEqual(await client.keys('*'), ['{kvs}:data'], 'no copy key');
  });
}
