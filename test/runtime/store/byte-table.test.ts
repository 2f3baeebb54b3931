/**
 * The byte table under the store (runtime/store/byte-table.ts): against a Map model on keys and
 * values of any bytes up to 40, through growth, deletes that shift slots back (also around the
 * end of the index and in clusters of one hash), and entries that keep their number while they live.
 */
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { MAX_STRING_BYTES } from '../../../protocol/keys.js';
import { ByteTable, hashBytes } from '../../../runtime/store/byte-table.js';

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const stringOf = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));

/** A byte string of 1 to 40 bytes, any byte (0 and 255 included). */
const byteString = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: MAX_STRING_BYTES });

/** `hash` chooses the hash (a test forcing collisions); by default the table's own. */
function set(table: ByteTable, key: string, value: string, hash = hashBytes(bytesOf(key), 0, key.length)): void {
  const k = bytesOf(key);
  const slot = table.find(k, 0, k.length, hash);
  const entry = slot >= 0 ? table.entryAt(slot) : table.insert(-1 - slot, k, 0, k.length, hash);
  table.setValue(entry, bytesOf(value), 0, value.length);
}

function get(table: ByteTable, key: string, hash = hashBytes(bytesOf(key), 0, key.length)): string | undefined {
  const slot = table.find(bytesOf(key), 0, key.length, hash);
  if (slot < 0) return undefined;
  const entry = table.entryAt(slot);
  return stringOf(table.pageOf(entry), table.valueAt(entry) + 1, table.valueLength(entry));
}

function remove(table: ByteTable, key: string, hash = hashBytes(bytesOf(key), 0, key.length)): boolean {
  const slot = table.find(bytesOf(key), 0, key.length, hash);
  if (slot >= 0) table.remove(slot);
  return slot >= 0;
}

/** Every live entry's pair, walked by entry number as the snapshots and SHOW walk them. */
function pairs(table: ByteTable): Map<string, string> {
  const out = new Map<string, string>();
  for (let entry = 0; entry < table.entryCount; entry++) {
    const length = table.keyLength(entry);
    if (length === 0) continue;
    const page = table.pageOf(entry);
    const key = stringOf(page, table.keyAt(entry) + 1, length);
    strictEqual(out.has(key), false, `key ${JSON.stringify(key)} is in one entry only`);
    out.set(key, stringOf(page, table.valueAt(entry) + 1, table.valueLength(entry)));
  }
  return out;
}

type TableOp = { readonly t: 'set'; readonly k: number; readonly v: string } | { readonly t: 'del'; readonly k: number } | { readonly t: 'get'; readonly k: number };

test('the table holds what a Map holds, for keys and values of any bytes, through growth and deletes', (t) => {
  const op: fc.Arbitrary<TableOp> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('set' as const), k: fc.nat(), v: byteString }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), k: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('get' as const), k: fc.nat() }) },
  );
  fc.assert(
    fc.property(fc.uniqueArray(byteString, { minLength: 1, maxLength: 400 }), fc.array(op, { maxLength: 1500 }), (keys, ops) => {
      const table = new ByteTable();
      const model = new Map<string, string>();
      for (const o of ops) {
        const key = keys[o.k % keys.length]!;
        if (o.t === 'set') {
          set(table, key, o.v);
          model.set(key, o.v);
        } else if (o.t === 'del') strictEqual(remove(table, key), model.delete(key));
        else strictEqual(get(table, key), model.get(key));
      }
      strictEqual(table.size, model.size);
      for (const key of keys) strictEqual(get(table, key), model.get(key));
      deepStrictEqual(pairs(table), model);
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('keys and values of 40 bytes, and keys that differ only in their last byte, keep every byte', (t) => {
  const table = new ByteTable();
  const long = (fill: number, last: number) => String.fromCharCode(...new Array<number>(MAX_STRING_BYTES - 1).fill(fill), last);
  for (let last = 0; last < 256; last++) set(table, long(0xff, last), long(last, 0));
  set(table, '\x00', long(0, 0));
  t.is(table.size, 257);
  for (let last = 0; last < 256; last++) t.is(get(table, long(0xff, last)), long(last, 0));
  t.is(get(table, '\x00'), long(0, 0));
  t.is(get(table, long(0xff, 0).slice(0, -1)), undefined, 'a prefix of a key is another key');
});

test('200,000 keys: the index grows, every key is found, deletes free entries that new keys reuse', (t) => {
  const table = new ByteTable();
  const keys = 200_000;
  const key = (i: number) => `key${i}`;
  for (let i = 0; i < keys; i++) set(table, key(i), `v${i}`);
  t.is(table.size, keys);
  t.is(table.entryCount, keys);
  let wrong = 0;
  for (let i = 0; i < keys; i++) if (get(table, key(i)) !== `v${i}`) wrong++;
  t.is(wrong, 0, 'every key has its value');
  for (let i = 0; i < keys; i += 2) remove(table, key(i));
  t.is(table.size, keys / 2);
  for (let i = 0; i < keys; i++) if (get(table, key(i)) !== (i % 2 === 0 ? undefined : `v${i}`)) wrong++;
  t.is(wrong, 0, 'the odd keys stay, the even ones are gone');
  for (let i = 0; i < keys / 2; i++) set(table, `new${i}`, 'n');
  t.is(table.entryCount, keys, 'new keys reuse the freed entries');
  t.is(table.size, keys);
});

test('deletes in a cluster of one hash that wraps around the end of the index shift the rest back', (t) => {
  // 16 slots; every key hashes to slot 14, so the cluster runs 14, 15, 0, 1, ...
  const table = new ByteTable(16);
  const hash = 14;
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  // One key at home in slot 0 and one in slot 1: the cluster passes over them.
  set(table, 'home0', '0', 0);
  set(table, 'home1', '1', 1);
  for (const k of keys) set(table, k, k.toUpperCase(), hash);
  for (const gone of ['a', 'd', 'f', 'b']) {
    t.true(remove(table, gone, hash));
    for (const k of keys) t.is(get(table, k, hash), ['a', 'd', 'f', 'b'].slice(0, ['a', 'd', 'f', 'b'].indexOf(gone) + 1).includes(k) ? undefined : k.toUpperCase(), `${k} after deleting ${gone}`);
    t.is(get(table, 'home0', 0), '0');
    t.is(get(table, 'home1', 1), '1');
  }
  t.true(remove(table, 'home0', 0));
  t.is(get(table, 'home1', 1), '1');
  t.is(get(table, 'c', hash), 'C');
  t.is(get(table, 'e', hash), 'E');
  deepStrictEqual(pairs(table), new Map([['home1', '1'], ['c', 'C'], ['e', 'E']]));
});

test('an entry keeps its number while the index grows around it', (t) => {
  const table = new ByteTable();
  set(table, 'first', '1');
  const entry = table.entryAt(table.find(bytesOf('first'), 0, 5, hashBytes(bytesOf('first'), 0, 5)));
  for (let i = 0; i < 100_000; i++) set(table, `k${i}`, 'v');
  t.is(table.entryAt(table.find(bytesOf('first'), 0, 5, hashBytes(bytesOf('first'), 0, 5))), entry);
  t.is(stringOf(table.pageOf(entry), table.keyAt(entry) + 1, table.keyLength(entry)), 'first');
});
