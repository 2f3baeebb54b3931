/**
 * The store seam (protocol/store-contract.ts), the same checks on both stores: the in-memory
 * `MemoryStore` and the `RedisStore` on a real redis-server. Results, key checks, sizes, the
 * change listener's order, a BACKUP's point-in-time snapshot, and batches settling in call order.
 */
import test, { type ExecutionContext } from 'ava';
import { MemoryStore } from '../../../runtime/store/memory-store.js';
import { Op } from '../../../protocol/batch-codec.js';
import { decodeResults, encodeOps, type FlatValue } from '../../helpers/flat-batch.js';
import type { KvStore, StoreSnapshot } from '../../../protocol/store-contract.js';
import { RedisStore } from '../../../runtime/redis/store.js';
import { launchRedis, type RedisServer } from '../../helpers/redis-server.js';
import { waitUntilSeen } from '../../helpers/processes.js';

let redis: RedisServer;
test.before(async () => {
  redis = await launchRedis();
});
test.after.always(async () => {
  await redis?.stop();
});

let namespaces = 0;
const kinds: ReadonlyArray<readonly [string, (t: ExecutionContext) => Promise<KvStore>]> = [
  ['memory', async () => new MemoryStore()],
  [
    'redis',
    async (t) => {
      const store = await RedisStore.open(redis.url, { namespace: `c${process.pid}n${++namespaces}` });
      t.teardown(() => store.close());
      return store;
    },
  ],
];

/** A batch of operations through the seam, as bytes both ways (protocol/batch-codec.ts). */
async function applyOps(store: KvStore, ops: FlatValue[], onBackup: (n: number, snapshot: StoreSnapshot) => void = () => undefined): Promise<FlatValue[]> {
  const batch = encodeOps(ops);
  return decodeResults(batch, await store.apply(batch, onBackup));
}

/** Every pair of a snapshot, sorted, then released. */
async function readAll(snapshot: StoreSnapshot): Promise<string[]> {
  const pairs: string[] = [];
  for (let kv = await snapshot.next(2); kv !== null; kv = await snapshot.next(2)) {
    for (let i = 0; i < kv.length; i += 2) pairs.push(`${kv[i]}=${kv[i + 1]}`);
  }
  await snapshot.release();
  return [...new Set(pairs)].sort();
}

for (const [kind, open] of kinds) {
  test(`${kind}: a batch gives the bus's results, and has and size see it`, async (t) => {
    const store = await open(t);
    const results = await applyOps(store, [Op.Write, 2, 'a', '1', 'b\xe9', '2\xff', Op.Read, 2, 'a', 'zz', Op.Delete, 2, 'a', 'q'], () => undefined);
    t.deepEqual(results, ['1', null, 1, 'q']);
    t.true(await store.has('b\xe9'));
    t.false(await store.has('a'));
    t.is(await store.size(), 1);
    t.is(store.commandsApplied, 3);
    t.is(store.failure, null);
  });

  test(`${kind}: a BACKUP's snapshot is the store at its place, whatever comes after`, async (t) => {
    const store = await open(t);
    let snapshot: StoreSnapshot | null = null;
    await applyOps(store, [Op.Write, 2, 'a', '1', 'b', '2', Op.Backup, 1], (n, taken) => {
      t.is(n, 1);
      snapshot = taken;
    });
    await applyOps(store, [Op.Write, 1, 'a', 'changed', Op.Delete, 1, 'b', Op.Write, 1, 'c', '3'], () => undefined);
    t.not(snapshot, null);
    t.is(snapshot!.remote === null, kind === 'memory', 'a copy on Redis can be read by another process');
    t.deepEqual(await readAll(snapshot!), ['a=1', 'b=2']);
  });

  test(`${kind}: batches settle in call order, several in flight`, async (t) => {
    const store = await open(t);
    const settled: number[] = [];
    const batches: Promise<FlatValue[]>[] = [];
    for (let i = 0; i < 20; i++) batches.push(applyOps(store, [Op.Write, 1, 'k', String(i), Op.Read, 1, 'k'], () => undefined).then((r) => (settled.push(i), r)));
    const results = await Promise.all(batches);
    t.deepEqual(settled, Array.from({ length: 20 }, (_, i) => i));
    t.deepEqual(results.map((r) => r[0]), Array.from({ length: 20 }, (_, i) => String(i)));
  });

  test(`${kind}: the change listener hears every change in the order applied, until stopped`, async (t) => {
    const store = await open(t);
    const heard: string[] = [];
    const stop = await store.watch((key, value) => heard.push(`${key}=${value ?? 'DELETED'}`));
    await applyOps(store, [Op.Write, 2, 'a', '1', 'b', '2', Op.Delete, 2, 'a', 'none'], () => undefined);
    await applyOps(store, [Op.Write, 1, 'a', '3'], () => undefined);
    await waitUntilSeen('4 changes', () => ({ ok: heard.length >= 4, seen: heard.join(' ') }));
    t.deepEqual(heard, ['a=1', 'b=2', 'a=DELETED', 'a=3']);
    await stop();
    await applyOps(store, [Op.Write, 1, 'after', '1', Op.Read, 1, 'after'], () => undefined);
    // In memory a change is told inside the batch; on Redis the feed is closed, so nothing can come.
    t.deepEqual(heard, ['a=1', 'b=2', 'a=DELETED', 'a=3'], 'nothing after the stop');
  });
}

test('redis: a store whose connection drops fails every later batch and tells its listeners once', async (t) => {
  const own = await launchRedis();
  t.teardown(() => own.stop());
  const store = await RedisStore.open(own.url);
  t.teardown(() => store.close());
  const told: string[] = [];
  store.onFailure((error) => told.push(error.message));
  await applyOps(store, [Op.Write, 1, 'a', '1'], () => undefined);
  await own.kill();
  await waitUntilSeen('the failure to be told', () => ({ ok: told.length > 0, seen: `${told.length} told` }));
  const error = await t.throwsAsync(applyOps(store, [Op.Write, 1, 'a', '2'], () => undefined));
  t.regex(error.message, /^redis store redis\+unix:\/\/\S+: connection/);
  t.is(told.length, 1);
  t.is(store.failure?.message, told[0]);
});
