/**
 * The store as plain code: batches applied against a model Map, and copy-on-write snapshots read
 * a chunk at a time while writes, deletes and re-adds go on, several open at once and released
 * in any order.
 */
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { Op } from '../../../protocol/batch-codec.js';
import { MAX_STRING_BYTES } from '../../../protocol/keys.js';
import { decodeResults, encodeOps, type FlatValue } from '../../helpers/flat-batch.js';
import { Store, type SnapshotReader } from '../../../runtime/store/memory-store.js';

/** Applies a batch given in the flat form; its results in the flat form. */
function applyFlat(store: Store, ops: readonly FlatValue[], onBackup: (n: number) => void): FlatValue[] {
  const batch = encodeOps(ops);
  return decodeResults(batch, store.apply(batch, onBackup));
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];

type StoreOp =
  | { readonly t: 'set'; readonly k: string; readonly v: string }
  | { readonly t: 'del'; readonly k: string }
  | { readonly t: 'get'; readonly k: string }
  | { readonly t: 'show' }
  | { readonly t: 'snap' };

type Action =
  | { readonly t: 'batch'; readonly ops: readonly StoreOp[] }
  | { readonly t: 'read'; readonly which: number; readonly n: number }
  | { readonly t: 'release'; readonly which: number };

const storeOp = (k: fc.Arbitrary<string>, v: fc.Arbitrary<string>): fc.Arbitrary<StoreOp> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ t: fc.constant('set' as const), k, v }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), k }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('get' as const), k }) },
    { weight: 1, arbitrary: fc.constant({ t: 'show' as const }) },
    { weight: 1, arbitrary: fc.constant({ t: 'snap' as const }) },
  );
const action = (op: fc.Arbitrary<StoreOp>): fc.Arbitrary<Action> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ t: fc.constant('batch' as const), ops: fc.array(op, { minLength: 1, maxLength: 6 }) }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('read' as const), which: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), which: fc.nat() }) },
  );

interface Open {
  readonly reader: SnapshotReader;
  /** The model's copy of the store when the snapshot was taken. */
  readonly expected: ReadonlyMap<string, string>;
  readonly seen: Map<string, string>;
}

/** Reads one chunk; every pair must be in the snapshot's copy; at the end, all of it must have come. */
function readChunk(open: Open, n: number): boolean {
  const kv = open.reader.next(n);
  if (kv === null) {
    deepStrictEqual(new Map([...open.seen].sort()), new Map([...open.expected].sort()), 'a finished snapshot holds exactly the store at snapshot time');
    return true;
  }
  ok(kv.length > 0 && kv.length <= 2 * n, `a chunk holds 1..${n} pairs`);
  for (let i = 0; i < kv.length; i += 2) {
    const key: string = kv[i]!;
    const value: string = kv[i + 1]!;
    strictEqual(open.expected.get(key), value, `pair (${key},${value}) is in the snapshot`);
    const before = open.seen.get(key);
    ok(before === undefined || before === value, `key ${key} comes again with the same value`);
    open.seen.set(key, value);
  }
  return false;
}

/** Applies one batch to the store and the model; checks the results op by op. */
function applyBatch(store: Store, model: Map<string, string>, opened: Open[], batch: readonly StoreOp[]): void {
  const ops: FlatValue[] = [];
  /** The place in the batch of the BACKUP numbered n. */
  const backupAt = new Map<number, number>();
  batch.forEach((op, i) => {
    if (op.t === 'set') ops.push(Op.Write, 1, op.k, op.v);
    else if (op.t === 'del') ops.push(Op.Delete, 1, op.k);
    else if (op.t === 'get') ops.push(Op.Read, 1, op.k);
    else if (op.t === 'show') ops.push(Op.Show);
    else {
      const n = opened.length + backupAt.size + 1;
      backupAt.set(n, i);
      ops.push(Op.Backup, n);
    }
  });
  // The model runs ahead to each BACKUP's place as the store calls back, so its copy is taken
  // at the BACKUP's place in the batch, not at the end of it.
  let modelAt = 0;
  const expectedResults: FlatValue[] = [];
  const runModelTo = (end: number) => {
    for (; modelAt < end; modelAt++) {
      const op = batch[modelAt]!;
      if (op.t === 'set') model.set(op.k, op.v);
      else if (op.t === 'del') {
        expectedResults.push(model.has(op.k) ? 0 : 1, ...(model.has(op.k) ? [] : [op.k]));
        model.delete(op.k);
      } else if (op.t === 'get') expectedResults.push(model.get(op.k) ?? null);
      else if (op.t === 'show') expectedResults.push(model.size * 2, ...[...model].sort(byKey).flat());
    }
  };
  const results = applyFlat(store, ops, (n) => {
    const at = backupAt.get(n)!;
    runModelTo(at);
    opened.push({ reader: store.snapshot(), expected: new Map(model), seen: new Map() });
    modelAt = at + 1;
  });
  runModelTo(batch.length);
  deepStrictEqual(normalizeShows(results, batch), normalizeShows(expectedResults, batch));
}

/** Pairs by key (a pair's text would not do: keys may hold a comma). */
const byKey = (a: readonly [string, string], b: readonly [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** SHOW results come in no order: sort each SHOW's pairs so results compare as values. */
function normalizeShows(results: readonly FlatValue[], batch: readonly StoreOp[]): FlatValue[] {
  const out: FlatValue[] = [];
  let r = 0;
  for (const op of batch) {
    if (op.t === 'get') out.push(results[r++]!);
    else if (op.t === 'del') {
      const m = results[r] as number;
      out.push(...results.slice(r, r + 1 + m));
      r += 1 + m;
    } else if (op.t === 'show') {
      const width = results[r] as number;
      const pairs: Array<[string, string]> = [];
      for (let i = r + 1; i < r + 1 + width; i += 2) pairs.push([results[i] as string, results[i + 1] as string]);
      out.push(width, ...pairs.sort(byKey).flat());
      r += 1 + width;
    }
  }
  strictEqual(r, results.length, 'no results left over');
  return out;
}

/**
 * Runs the actions against a store and a model over `keys`: every result, every snapshot read to
 * its end (the rest released in `releaseOrder`), and the store at the end, as the model says.
 */
function checkActions(keys: readonly string[], actions: readonly Action[], releaseOrder: readonly number[]): void {
  const store = new Store();
  const model = new Map<string, string>();
  const opened: Open[] = [];
  const live: Open[] = [];
  for (const a of actions) {
    if (a.t === 'batch') {
      const before = opened.length;
      applyBatch(store, model, opened, a.ops);
      live.push(...opened.slice(before));
    } else if (live.length > 0) {
      const open = live[a.which % live.length]!;
      if (a.t === 'release' || readChunk(open, a.n)) {
        open.reader.release();
        live.splice(live.indexOf(open), 1);
      }
    }
  }
  // The rest are read to the end and released in a generated order.
  for (const pick of releaseOrder) {
    if (live.length === 0) break;
    const open = live.splice(pick % live.length, 1)[0]!;
    while (!readChunk(open, 2));
    open.reader.release();
  }
  for (const open of live.splice(0)) {
    while (!readChunk(open, 1));
    open.reader.release();
  }
  strictEqual(store.openSnapshots, 0, 'every snapshot released');
  deepStrictEqual(new Map(keys.filter((key) => store.has(key)).map((key) => [key, store.get(key)!])), model);
  strictEqual(store.size, model.size);
}

test('snapshots read in chunks equal the store at snapshot time while it keeps changing', (t) => {
  const op = storeOp(fc.constantFrom(...KEYS), fc.constantFrom('1', '2', '3', '4'));
  fc.assert(
    fc.property(fc.array(action(op), { minLength: 10, maxLength: 80 }), fc.array(fc.nat(), { maxLength: 10 }), (actions, releaseOrder) => checkActions(KEYS, actions, releaseOrder)),
    { numRuns: 1500 },
  );
  t.pass();
});

/** A byte string of 1 to 40 bytes, any byte: the store takes whatever a checked batch holds. */
const byteString = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: MAX_STRING_BYTES });

test('keys and values of any bytes up to 40, many keys: results and snapshots as the model says', (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(byteString, { minLength: 1, maxLength: 300 }).chain((keys) =>
        fc.tuple(fc.constant(keys), fc.array(action(storeOp(fc.constantFrom(...keys), byteString)), { minLength: 10, maxLength: 120 }), fc.array(fc.nat(), { maxLength: 10 })),
      ),
      ([keys, actions, releaseOrder]) => checkActions(keys, actions, releaseOrder),
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('a snapshot stays exact while the store grows past many resizes of its table and of the undo log', (t) => {
  const store = new Store();
  const model = new Map<string, string>();
  const apply = (ops: FlatValue[], onBackup: (n: number) => void = () => t.fail()) => applyFlat(store, ops, onBackup);
  for (let i = 0; i < 1000; i++) {
    apply([Op.Write, 1, `old${i}`, `v${i}`]);
    model.set(`old${i}`, `v${i}`);
  }
  const first = store.snapshot();
  const atFirst = new Map(model);
  let second: SnapshotReader | undefined;
  let atSecond = new Map<string, string>();
  for (let i = 0; i < 60_000; i++) {
    // New keys (the table's index doubles many times), old keys rewritten and deleted (logged).
    const ops: FlatValue[] = [Op.Write, 2, `new${i}`, `n${i}`, `old${i % 1000}`, `w${i}`];
    model.set(`new${i}`, `n${i}`).set(`old${i % 1000}`, `w${i}`);
    if (i % 3 === 0) {
      ops.push(Op.Delete, 1, `old${(i * 7) % 1000}`);
      model.delete(`old${(i * 7) % 1000}`);
    }
    if (i === 30_000) ops.push(Op.Backup, 2);
    apply(ops, () => {
      second = store.snapshot();
      atSecond = new Map(model);
    });
  }
  const readAll = (reader: SnapshotReader) => {
    const pairs = new Map<string, string>();
    for (let kv = reader.next(777); kv !== null; kv = reader.next(777)) for (let i = 0; i < kv.length; i += 2) pairs.set(kv[i]!, kv[i + 1]!);
    reader.release();
    return pairs;
  };
  deepStrictEqual(readAll(second!), atSecond, 'the second snapshot, taken midway');
  deepStrictEqual(readAll(first), atFirst, 'the first snapshot, older than every new key');
  t.is(store.openSnapshots, 0);
  t.is(store.size, model.size);
  for (const [key, value] of model) if (store.get(key) !== value) t.fail(`${key} is ${store.get(key)}, not ${value}`);
});

test('a BACKUP in the middle of a batch snapshots exactly the commands before it', (t) => {
  const store = new Store();
  let reader: SnapshotReader | undefined;
  applyFlat(store, [Op.Write, 2, 'a', '1', 'b', '1', Op.Backup, 1, Op.Write, 1, 'a', '2', Op.Delete, 1, 'b', Op.Write, 1, 'c', '3'], (n) => {
    t.is(n, 1);
    reader = store.snapshot();
  });
  const pairs: string[] = [];
  for (let kv = reader!.next(1); kv !== null; kv = reader!.next(1)) pairs.push(...kv);
  reader!.release();
  t.is(pairs.length, 4);
  t.deepEqual(new Map([[pairs[0]!, pairs[1]!], [pairs[2]!, pairs[3]!]]), new Map([['a', '1'], ['b', '1']]));
  t.is(store.openSnapshots, 0);
});

test('apply answers READ, DELETE and SHOW in command order', (t) => {
  const store = new Store();
  const results = applyFlat(store, [Op.Write, 2, 'b', '2', 'a', '1', Op.Read, 2, 'a', 'z', Op.Delete, 3, 'b', 'b', 'y', Op.Show], () => t.fail());
  t.deepEqual(results, ['1', null, 2, 'b', 'y', 2, 'a', '1']);
});

test('the change listener hears every write and delete in order, and not a delete of a missing key', (t) => {
  const store = new Store();
  const heard: Array<[string, string | null]> = [];
  store.onChange = (key, value) => heard.push([key, value]);
  applyFlat(store, [Op.Write, 2, 'a', '1', 'a', '2', Op.Delete, 2, 'a', 'b', Op.Write, 1, 'b', '3'], () => undefined);
  t.deepEqual(heard, [['a', '1'], ['a', '2'], ['a', null], ['b', '3']]);
});

test('a released snapshot reads as finished and releasing it twice is harmless', (t) => {
  const store = new Store();
  applyFlat(store, [Op.Write, 1, 'a', '1'], () => undefined);
  const first = store.snapshot();
  const second = store.snapshot();
  first.release();
  first.release();
  t.is(first.next(10), null);
  t.is(store.openSnapshots, 1);
  applyFlat(store, [Op.Write, 1, 'a', '2'], () => undefined);
  t.deepEqual(second.next(10), ['a', '1']);
  t.is(second.next(10), null);
  second.release();
  t.is(store.openSnapshots, 0);
});
