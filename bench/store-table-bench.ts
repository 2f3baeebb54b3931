/**
 * `node dist/bench/store-table-bench.js`: the store's data structure alone, at 10k, 100k and 1M
 * keys: a `Map` of strings made from the batch's bytes (the store before runtime/store/byte-table.ts)
 * against the byte table, looked up one key after another or with a batch's lookups overlapped
 * (every key's slot read first, then the work: what the store does). Each figure is a fresh process (so its memory is
 * its own), on the benchmark's key mix: 60% set, 30% get, 10% delete, keys `key` + digits, values
 * `v` + 6 digits, in batches of 2,500 keys; the second pass over the same operations is timed.
 *
 *   node dist/bench/store-table-bench.js [--ops N] [--keys 10000,100000,1000000]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { internLatin1, latin1 } from '../protocol/batch-codec.js';
import { ByteTable, hashBytes } from '../runtime/store/byte-table.js';
import { random } from './workload.js';

const BATCH_KEYS = 2_500;
const SET = 1;
const GET = 2;
const DEL = 3;

interface Ops {
  /** Per operation: its kind, and where its key (a length byte, then the bytes) and value start. */
  readonly kind: Uint8Array;
  readonly keyAt: Int32Array;
  readonly valueAt: Int32Array;
  readonly bytes: Uint8Array;
}

function generate(count: number, keys: number): Ops {
  const next = random(1);
  const kind = new Uint8Array(count);
  const keyAt = new Int32Array(count);
  const valueAt = new Int32Array(count);
  const bytes = new Uint8Array(count * 24);
  let at = 0;
  const put = (s: string) => {
    bytes[at++] = s.length;
    for (let i = 0; i < s.length; i++) bytes[at++] = s.charCodeAt(i);
  };
  for (let i = 0; i < count; i++) {
    const roll = next();
    kind[i] = roll < 0.6 ? SET : roll < 0.9 ? GET : DEL;
    keyAt[i] = at;
    put(`key${String(Math.floor(next() * keys)).padStart(5, '0')}`);
    valueAt[i] = at;
    if (kind[i] === SET) put(`v${String(Math.floor(next() * 1_000_000)).padStart(6, '0')}`);
  }
  return { kind, keyAt, valueAt, bytes };
}

type Variant = (ops: Ops) => () => number;

const variants: Record<string, Variant> = {
  map: ({ kind, keyAt, valueAt, bytes }) => {
    const map = new Map<string, string>();
    return () => {
      let found = 0;
      for (let i = 0; i < kind.length; i++) {
        const k = keyAt[i]!;
        const key = internLatin1(bytes, k + 1, bytes[k]!);
        if (kind[i] === SET) map.set(key, latin1(bytes, valueAt[i]! + 1, bytes[valueAt[i]!]!));
        else if (kind[i] === GET) found += map.get(key) === undefined ? 0 : 1;
        else found += map.delete(key) ? 1 : 0;
      }
      return found;
    };
  },
  table: (ops) => {
    const table = new ByteTable();
    return () => tableRun(table, ops, false);
  },
  'table, overlapped': (ops) => {
    const table = new ByteTable();
    return () => tableRun(table, ops, true);
  },
};

/** With `overlap`, every key of a batch has its slot and entry read (`prefetch`) before any is used, as the store does. */
function tableRun(table: ByteTable, { kind, keyAt, valueAt, bytes }: Ops, overlap: boolean): number {
  const hashes = new Int32Array(BATCH_KEYS);
  const entries = new Int32Array(BATCH_KEYS);
  let found = 0;
  for (let start = 0; start < kind.length; start += BATCH_KEYS) {
    const end = Math.min(kind.length, start + BATCH_KEYS);
    for (let i = start; i < end; i++) {
      const k = keyAt[i]!;
      const h = hashBytes(bytes, k + 1, bytes[k]!);
      hashes[i - start] = h;
    }
    if (overlap) table.prefetch(hashes, end - start, entries);
    for (let i = start; i < end; i++) {
      const k = keyAt[i]!;
      const h = hashes[i - start]!;
      const slot = table.find(bytes, k + 1, bytes[k]!, h);
      if (kind[i] === SET) {
        const entry = slot >= 0 ? table.entryAt(slot) : table.insert(-1 - slot, bytes, k + 1, bytes[k]!, h);
        table.setValue(entry, bytes, valueAt[i]! + 1, bytes[valueAt[i]!]!);
      } else if (slot >= 0) {
        found++;
        if (kind[i] === DEL) table.remove(slot);
      }
    }
  }
  return found;
}

const { values } = parseArgs({ options: { ops: { type: 'string' }, keys: { type: 'string' }, one: { type: 'string' } } });
const count = Number(values.ops ?? 4_000_000);

if (values.one !== undefined) {
  // A child: one variant at one key count; prints ns per operation and peak RSS.
  const [name, keys] = values.one.split(':') as [string, string];
  const ops = generate(count, Number(keys));
  const run = variants[name]!(ops);
  const baseline = process.memoryUsage().rss;
  run();
  // CPU time, not wall time: the figure holds on a machine shared with other work.
  const started = process.cpuUsage();
  const found = run();
  const used = process.cpuUsage(started);
  const ns = ((used.user + used.system) * 1000) / count;
  const grown = (process.memoryUsage().rss - baseline) / 2 ** 20;
  console.log(JSON.stringify({ ns, grown, found }));
} else {
  const keyCounts = (values.keys ?? '10000,100000,1000000').split(',').map(Number);
  console.log(`store data structures, ${count.toLocaleString('en')} operations per pass (CPU ns per operation of the second pass, memory grown), node ${process.version}`);
  for (const keys of keyCounts) {
    const row: string[] = [];
    let mapNs = 0;
    for (const name of Object.keys(variants)) {
      const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--ops', String(count), '--one', `${name}:${keys}`], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${name} at ${keys} keys failed: ${child.stderr}`);
      const { ns, grown } = JSON.parse(child.stdout) as { ns: number; grown: number };
      if (name === 'map') mapNs = ns;
      row.push(`${name} ${ns.toFixed(0).padStart(4)} ns${name === 'map' ? '' : ` (${(mapNs / ns).toFixed(2)}x)`}, ${grown.toFixed(0)} MB`);
    }
    console.log(`${keys.toLocaleString('en').padStart(9)} keys: ${row.join('  |  ')}`);
  }
}
