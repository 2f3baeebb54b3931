/**
 * The Redis store against a real redis-server (Debian's, on a unix socket in a temp folder):
 * the same results as the in-memory store for random batches, atomic batches across
 * connections, one published order of changes, point-in-time backups, and the faults.
 */
import { createServer, type AddressInfo } from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import { Op } from '../../../protocol/batch-codec.js';
import { compareKeys } from '../../../protocol/keys.js';
import { formatPairs } from '../../../protocol/output.js';
import { Store, type SnapshotReader } from '../../../runtime/store/memory-store.js';
import { RedisStore } from '../../../runtime/redis/store.js';
import { ChangeFeed, decodeChanges } from '../../../runtime/redis/changes.js';
import { RedisStoreError, parseRedisUrl } from '../../../runtime/redis/connection.js';
import { readBackupText, type SnapshotRef } from '../../../runtime/redis/snapshot.js';
import { BATCH_SCRIPT } from '../../../runtime/redis/batch-script.js';
import { launchRedis, startRedis, type RedisServer, rawRedis } from '../../helpers/redis-server.js';
import { key as keyArb, value as valueArb } from '../../../runtime/check/job-arbitraries.js';
import { waitUntil } from '../../helpers/processes.js';
import { applyFlat, decodeResults, encodeOps, type FlatValue } from '../../helpers/flat-batch.js';

let shared: RedisServer;
test.before(async () => {
  shared = await launchRedis();
});
test.after.always(async () => {
  await shared?.stop();
});

let counter = 0;
const namespace = () => `t${process.pid}n${++counter}`;

/** A plain connection for looking behind the store's back. */
const raw = rawRedis;

type Cmd =
  | { readonly kind: 'write'; readonly pairs: readonly string[] }
  | { readonly kind: 'read' | 'delete'; readonly keys: readonly string[] }
  | { readonly kind: 'show' }
  | { readonly kind: 'backup' };

/** Few distinct keys so that commands meet; some of them with bytes above 0x7f. */
const smallKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('a', 'b', 'ab', 'B', '\xe9', 'z\xff', '\x80') }, { weight: 1, arbitrary: keyArb });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.tuple(smallKey, valueArb), { minLength: 1, maxLength: 4 }).map((p): Cmd => ({ kind: 'write', pairs: p.flat() })) },
  { weight: 3, arbitrary: fc.array(smallKey, { minLength: 1, maxLength: 4 }).map((keys): Cmd => ({ kind: 'read', keys: [...keys].sort(compareKeys) })) },
  { weight: 2, arbitrary: fc.array(smallKey, { minLength: 1, maxLength: 4 }).map((keys): Cmd => ({ kind: 'delete', keys: [...keys].sort(compareKeys) })) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ kind: 'show' }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ kind: 'backup' }) },
);

/** A BACKUP ends its batch (checkBatch): a generated batch is cut after each of its BACKUPs. */
function endAtBackups(batch: readonly Cmd[]): Cmd[][] {
  const out: Cmd[][] = [[]];
  for (const c of batch) {
    out[out.length - 1]!.push(c);
    if (c.kind === 'backup') out.push([]);
  }
  return out.filter((b) => b.length > 0);
}

function toOps(commands: readonly Cmd[]): FlatValue[] {
  const ops: FlatValue[] = [];
  let backups = 0;
  for (const c of commands) {
    if (c.kind === 'write') ops.push(Op.Write, c.pairs.length / 2, ...c.pairs);
    else if (c.kind === 'read') ops.push(Op.Read, c.keys.length, ...c.keys);
    else if (c.kind === 'delete') ops.push(Op.Delete, c.keys.length, ...c.keys);
    else if (c.kind === 'show') ops.push(Op.Show);
    else ops.push(Op.Backup, ++backups);
  }
  return ops;
}

/** One result list per command, SHOW's pairs sorted by key (the store gives them in no order). */
function perCommand(commands: readonly Cmd[], results: readonly FlatValue[]): FlatValue[][] {
  const out: FlatValue[][] = [];
  let r = 0;
  for (const c of commands) {
    if (c.kind === 'read') {
      out.push(results.slice(r, r + c.keys.length));
      r += c.keys.length;
    } else if (c.kind === 'delete') {
      const m = results[r] as number;
      out.push(results.slice(r, r + 1 + m));
      r += 1 + m;
    } else if (c.kind === 'show') {
      const width = results[r] as number;
      out.push(sortFlat(results.slice(r + 1, r + 1 + width) as string[]));
      r += 1 + width;
    } else out.push([]);
  }
  if (r !== results.length) throw new Error(`${results.length - r} results left over`);
  return out;
}

function sortFlat(flat: readonly string[]): string[] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  pairs.sort((x, y) => compareKeys(x[0], y[0]));
  return pairs.flat();
}

function readAll(reader: SnapshotReader): string[] {
  const seen = new Map<string, string>();
  for (let kv = reader.next(3); kv !== null; kv = reader.next(3)) for (let i = 0; i < kv.length; i += 2) seen.set(kv[i]!, kv[i + 1]!);
  reader.release();
  return sortFlat([...seen].flat());
}

test('random batches give exactly the in-memory store results, and BACKUPs its snapshots, byte for byte', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(cmd, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), fc.constantFrom(0, 2, 1000), async (generated, showInlineMax) => {
      const batches = generated.flatMap(endAtBackups);
      const memory = new Store();
      const redis = await RedisStore.open(shared.url, { namespace: namespace(), showInlineMax });
      try {
        const memorySnaps: SnapshotReader[] = [];
        const redisSnaps: SnapshotRef[] = [];
        for (const batch of batches) {
          const ops = toOps(batch);
          const bytes = encodeOps(ops);
          const expected = perCommand(batch, decodeResults(bytes, memory.apply(bytes, () => memorySnaps.push(memory.snapshot()))));
          const got = perCommand(batch, await applyFlat(redis, ops, (_n, snapshot) => redisSnaps.push(snapshot.ref)));
          t.deepEqual(got, expected);
        }
        t.is(redisSnaps.length, memorySnaps.length);
        // Read after every batch ran: each copy still shows the store at its BACKUP.
        for (let i = 0; i < redisSnaps.length; i++) {
          t.is(await redis.snapshot(redisSnaps[i]!).backupText('course'), formatPairs(readAll(memorySnaps[i]!), 'course'));
        }
        t.is(await redis.size(), memory.size);
        t.is(redis.commandsApplied, memory.commandsApplied);
      } finally {
        await redis.close();
      }
    }),
    { numRuns: 40 },
  );
});

test('a batch is atomic for another connection: a READ of every key never sees half a batch', async (t) => {
  const ns = namespace();
  const writer = await RedisStore.open(shared.url, { namespace: ns });
  const reader = await RedisStore.open(shared.url, { namespace: ns });
  t.teardown(() => writer.close());
  t.teardown(() => reader.close());
  const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}`);
  await applyFlat(writer, [Op.Write, keys.length, ...keys.flatMap((k) => [k, 'v0'])]);
  const writes = Array.from({ length: 40 }, (_, b) => applyFlat(writer, [Op.Write, keys.length, ...keys.flatMap((k) => [k, `v${b + 1}`])]));
  const reads = Array.from({ length: 40 }, () => applyFlat(reader, [Op.Read, keys.length, ...keys, Op.Show]));
  const [, seen] = await Promise.all([Promise.all(writes), Promise.all(reads)]);
  const distinct = new Set<string>();
  for (const results of seen) {
    const values = new Set(results.slice(0, keys.length));
    t.is(values.size, 1, `one READ saw ${[...values].join(' ')}`);
    const shown = new Set(results.slice(keys.length + 1).filter((_, i) => i % 2 === 1));
    t.is(shown.size, 1, `one SHOW saw ${[...shown].join(' ')}`);
    distinct.add(String(results[0]));
  }
  t.log(`the READs saw ${distinct.size} distinct batches`);
  t.deepEqual(await applyFlat(reader, [Op.Read, 1, 'k000']), ['v40']);
});

test('changes are published in the order Redis applied them: each batch whole, each store in its order', async (t) => {
  const ns = namespace();
  const events: [string, string | null][] = [];
  const feed = await ChangeFeed.open(shared.url, (k, v) => events.push([k, v]), { namespace: ns });
  t.teardown(() => feed.close());
  const stores = [await RedisStore.open(shared.url, { namespace: ns }), await RedisStore.open(shared.url, { namespace: ns })];
  for (const s of stores) t.teardown(() => s.close());
  const BATCHES = 30;
  let expectedEvents = 0;
  const runs = stores.map((store, s) => {
    const pending: Promise<FlatValue[]>[] = [];
    for (let b = 0; b < BATCHES; b++) {
      // Three writes with values naming store and batch, then a DELETE of a key just written.
      const pairs = [0, 1, 2].flatMap((j) => [`k${(b + j) % 7}\xe9`, `s${s}b${b}j${j}`]);
      pending.push(applyFlat(store, [Op.Write, 3, ...pairs, Op.Delete, 1, pairs[0]!]));
      expectedEvents += 4;
    }
    return Promise.all(pending);
  });
  await Promise.all(runs);
  await waitUntil(`${expectedEvents} change events (have ${events.length})`, () => events.length >= expectedEvents);
  t.is(events.length, expectedEvents);
  // Each batch's four changes are contiguous: write, write, write, delete.
  const batchOrder: string[] = [];
  for (let i = 0; i < events.length; i += 4) {
    const tag = /^(s\db\d+)j0$/.exec(events[i]![1] ?? '')?.[1];
    t.truthy(tag, `event ${i} starts a batch`);
    t.deepEqual(
      events.slice(i, i + 4).map(([, v]) => v),
      [`${tag}j0`, `${tag}j1`, `${tag}j2`, null],
    );
    t.is(events[i + 3]![0], events[i]![0]);
    batchOrder.push(tag!);
  }
  for (const s of [0, 1]) {
    t.deepEqual(
      batchOrder.filter((tag) => tag.startsWith(`s${s}`)),
      Array.from({ length: BATCHES }, (_, b) => `s${s}b${b}`),
    );
  }
  // Replaying the events gives the store as it is.
  const model = new Map<string, string>();
  for (const [k, v] of events) v === null ? model.delete(k) : model.set(k, v);
  const shown = await applyFlat(stores[0]!, [Op.Show]);
  t.deepEqual(sortFlat(shown.slice(1) as string[]), sortFlat([...model].flat()));
});

test('a batch publishes its changes as one message, in order, with only the keys its DELETEs found', async (t) => {
  const redis = await RedisStore.open(shared.url, { namespace: namespace() });
  t.teardown(() => redis.close());
  const subscriber = await raw(t, shared);
  const messages: Buffer[] = [];
  subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => messages.push(message));
  await subscriber.subscribe(redis.names.channel);
  await applyFlat(redis, [Op.Write, 2, 'a', '1', 'b\xe9', '2', Op.Read, 1, 'a', Op.Delete, 3, 'a', 'nope', 'a', Op.Write, 1, 'a', '3']);
  await applyFlat(redis, [Op.Read, 2, 'a', 'b\xe9', Op.Delete, 1, 'nope']);
  await waitUntil(`a message from the first batch (have ${messages.length})`, () => messages.length >= 1);
  // The second batch changed nothing, so it published nothing: the third's message comes next.
  await applyFlat(redis, [Op.Write, 1, 'end', 'x']);
  await waitUntil(`the end message (have ${messages.length})`, () => messages.length >= 2);
  t.is(messages.length, 2);
  t.deepEqual(decodeChanges(messages[0]!), [
    { key: 'a', value: '1' },
    { key: 'b\xe9', value: '2' },
    { key: 'a', value: null },
    { key: 'a', value: '3' },
  ]);
  t.deepEqual(decodeChanges(messages[1]!), [{ key: 'end', value: 'x' }]);
});

test('a BACKUP copy equals the SHOW right after it, whatever later batches do', async (t) => {
  const redis = await RedisStore.open(shared.url, { namespace: namespace() });
  t.teardown(() => redis.close());
  const pairs = Array.from({ length: 3000 }, (_, i) => [`key${i}\xa0`, `v${i}\xff`]).flat();
  let ref: SnapshotRef | null = null;
  // A BACKUP ends its batch (checkBatch): the SHOW is the next batch's first command.
  const written = await applyFlat(redis, [Op.Write, 3000, ...pairs, Op.Delete, 2, 'key7\xa0', 'nope', Op.Backup, 1], (_n, snapshot) => (ref = snapshot.ref));
  t.deepEqual(written, [1, 'nope']);
  const results = [...written, ...(await applyFlat(redis, [Op.Show]))];
  for (let b = 0; b < 10; b++) {
    await applyFlat(redis, [Op.Write, 2, `key${b}\xa0`, 'changed', 'new', 'x', Op.Delete, 1, `key${b + 100}\xa0`]);
  }
  const show = formatPairs(sortFlat(results.slice(3) as string[]), 'seed');
  t.is(show.split('\n').length - 1, 2999);
  const snapshotRef: SnapshotRef = ref!;
  t.is(snapshotRef.pairs, 2999);
  // Read as a backup child would: from the plain ref, on a connection of its own.
  t.is(await readBackupText(shared.url, snapshotRef, 'seed'), show);
  const client = await raw(t, shared);
  t.is(await client.exists(snapshotRef.key), 0, 'the copy is dropped once read');
});

test('a copy that vanished before it was read fails the backup, never a short one', async (t) => {
  const redis = await RedisStore.open(shared.url, { namespace: namespace() });
  t.teardown(() => redis.close());
  let ref: SnapshotRef | null = null;
  await applyFlat(redis, [Op.Write, 2, 'a', '1', 'b', '2', Op.Backup, 1], (_n, snapshot) => (ref = snapshot.ref));
  const client = await raw(t, shared);
  t.is(await client.del(ref!.key), 1);
  const error = await t.throwsAsync(redis.snapshot(ref!).backupText('seed'), { instanceOf: RedisStoreError });
  t.is(error?.code, 'REDIS_STORE_SNAPSHOT');
});

test('a batch Redis refuses changes nothing', async (t) => {
  const ns = namespace();
  const redis = await RedisStore.open(shared.url, { namespace: ns });
  t.teardown(() => redis.close());
  await applyFlat(redis, [Op.Write, 1, 'a', '1']);
  const client = await raw(t, shared);
  // The script checks the whole batch before any change: a truncated DELETE after a WRITE.
  const packed = Buffer.from(encodeOps([Op.Write, 1, 'a', '2', Op.Delete, 2, 'a', 'b']));
  for (const cut of [packed.length - 1, packed.length - 3, 13]) {
    await t.throwsAsync(client.eval(BATCH_SCRIPT, 1, redis.names.data, redis.names.channel, '10', '1000', packed.subarray(0, cut)), { message: /KVSREFUSED.*truncated/ });
  }
  await t.throwsAsync(client.eval(BATCH_SCRIPT, 1, redis.names.data, redis.names.channel, '10', '1000', Buffer.concat([packed, Buffer.from([9, 0, 0, 0, 0])])), { message: /KVSREFUSED.*unknown op 9/ });
  t.deepEqual(await applyFlat(redis, [Op.Read, 1, 'a']), ['1']);
  // A data key of the wrong type: refused whole, with a message naming the store.
  await client.set(redis.names.data + 'x', 'a string');
  const other = await RedisStore.open(shared.url, { namespace: ns });
  t.teardown(() => other.close());
  await client.rename(redis.names.data + 'x', redis.names.data);
  const error = await t.throwsAsync(applyFlat(other, [Op.Write, 1, 'b', '2']), { instanceOf: RedisStoreError });
  t.is(error?.code, 'REDIS_STORE_REFUSED');
  t.regex(error!.message, /redis store redis\+unix:.*holds a string/);
  t.is(await client.get(redis.names.data), 'a string');
  // A malformed batch is refused before it is sent.
  const bad = await t.throwsAsync(other.apply(encodeOps([Op.Read, 2, 'a', 'b']).subarray(0, 8)), { instanceOf: RedisStoreError });
  t.is(bad?.code, 'REDIS_STORE_REFUSED');
});

test('after SCRIPT FLUSH the batches in flight are resent, in their order', async (t) => {
  // A Redis of its own: on the shared one, another test's store may load the script meanwhile.
  const server = await startRedis(t);
  const redis = await RedisStore.open(server.url, { namespace: namespace() });
  t.teardown(() => redis.close());
  const client = await raw(t, server);
  const noscripts = async () => Number(/errorstat_NOSCRIPT:count=(\d+)/.exec(await client.info('errorstats'))?.[1] ?? 0);
  const before = await noscripts();
  await client.script('FLUSH');
  const batch = (i: number) => applyFlat(redis, [Op.Write, 1, 'k', String(i), Op.Read, 1, 'k']);
  const batches = Array.from({ length: 6 }, (_, i) => batch(i));
  // A second wave while the first is being refused and resent: held, then sent after it.
  const first = batches[0]!.then(() => 'done');
  for (let i = 6; i < 12; i++) {
    await Promise.race([first, new Promise((resolve) => setImmediate(resolve))]);
    batches.push(batch(i));
  }
  t.deepEqual(await Promise.all(batches), Array.from({ length: 12 }, (_, i) => [String(i)]));
  t.deepEqual(await applyFlat(redis, [Op.Read, 1, 'k']), ['11']);
  t.true((await noscripts()) > before, 'Redis answered NOSCRIPT at least once');
});

test('an unreachable Redis is one clear error at once, naming the store', async (t) => {
  for (const url of [`redis+unix://${shared.socket}.missing`, 'redis://127.0.0.1:1/2']) {
    const error = await t.throwsAsync(RedisStore.open(url), { instanceOf: RedisStoreError });
    t.is(error?.code, 'REDIS_STORE_UNREACHABLE');
    t.true(error!.message.startsWith(`redis store ${url}: cannot connect`), error!.message);
    const feed = await t.throwsAsync(ChangeFeed.open(url, () => undefined), { instanceOf: RedisStoreError });
    t.is(feed?.code, 'REDIS_STORE_UNREACHABLE');
  }
});

test('a peer that accepts the connection and never answers is reported within the connect timeout', async (t) => {
  const silent = createServer((socket) => socket.on('error', () => undefined).resume());
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())));
  const url = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const error = await t.throwsAsync(RedisStore.open(url, { connectTimeoutMs: 300 }), { instanceOf: RedisStoreError });
  t.is(error?.code, 'REDIS_STORE_UNREACHABLE');
  t.is(error?.message, `redis store ${url}: cannot connect: no answer within 300 ms (the host does not answer, or a firewall drops the connection)`);
});

test('a peer that is not Redis (an HTTP proxy on the port) is named as such, not in ioredis\' words', async (t) => {
  const http = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => http.close(() => resolve())));
  const url = `redis://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const error = await t.throwsAsync(RedisStore.open(url, { connectTimeoutMs: 3000 }), { instanceOf: RedisStoreError });
  t.is(error?.code, 'REDIS_STORE_UNREACHABLE');
  t.is(error?.message, `redis store ${url}: cannot connect: what answers there is not a Redis server (its reply is not the Redis protocol)`);
});

test('store URLs: host, port, db and unix sockets; bad ones are named', (t) => {
  t.like(parseRedisUrl('redis://h:7000/3'), { db: 3, options: { host: 'h', port: 7000, db: 3 } });
  t.like(parseRedisUrl('redis://h'), { db: 0, options: { host: 'h', port: 6379 } });
  t.like(parseRedisUrl('redis+unix:///run/r.sock?db=2'), { db: 2, options: { path: '/run/r.sock', db: 2 } });
  t.is(parseRedisUrl('redis://u:secret@h/1').describe.includes('secret'), false);
  for (const bad of ['localhost:6379', 'http://h', 'redis://h/x', 'redis+unix://host/p', 'redis+unix:///s?db=-1']) {
    t.is(t.throws(() => parseRedisUrl(bad), { instanceOf: RedisStoreError })?.code, 'REDIS_STORE_URL', bad);
  }
});

test('Redis killed mid-run: the batches under way reject naming the store, later ones too, and the feed says it is lost', async (t) => {
  const server = await startRedis(t);
  const lost: string[] = [];
  const redis = await RedisStore.open(server.url, { onLost: (e) => lost.push(`store ${e.code}`) });
  t.teardown(() => redis.close());
  const feed = await ChangeFeed.open(server.url, () => undefined, { onLost: (e) => lost.push(`feed ${e.code}`) });
  t.teardown(() => feed.close());
  const big = Array.from({ length: 2000 }, (_, i) => [`k${i}`, `v${i}`]).flat();
  let applied = 0;
  const outcomes: Promise<string>[] = [];
  // Keep three batches in flight until one fails; kill Redis once a few went through.
  const run = (async () => {
    for (;;) {
      const p = applyFlat(redis, [Op.Write, 2000, ...big, Op.Show]).then(
        () => (applied++, 'ok'),
        (e: unknown) => (e instanceof RedisStoreError ? `${e.code} ${e.message}` : `other ${String(e)}`),
      );
      outcomes.push(p);
      if (outcomes.length >= 3 && (await outcomes[outcomes.length - 3]!) !== 'ok') return;
    }
  })();
  await waitUntil(`a few batches applied (${applied})`, () => applied >= 5);
  await server.kill();
  await run;
  const failures = (await Promise.all(outcomes)).filter((o) => o !== 'ok');
  t.true(failures.length > 0);
  for (const f of failures) t.regex(f, new RegExp(`^REDIS_STORE_LOST redis store ${server.url.replace(/[+.]/g, '\\$&')}: `));
  const later = await t.throwsAsync(applyFlat(redis, [Op.Read, 1, 'k1']), { instanceOf: RedisStoreError });
  t.is(later?.code, 'REDIS_STORE_LOST');
  await waitUntil(`both connections reported lost (${lost.join(', ')})`, () => lost.length === 2);
  t.deepEqual(lost.sort(), ['feed REDIS_STORE_LOST', 'store REDIS_STORE_LOST']);
});
