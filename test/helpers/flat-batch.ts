/**
 * A batch as a flat list of values, for tests to write batches and read results by hand:
 * `[Op.Write, n, k1, v1, ..., Op.Read, n, k1, ..., Op.Show, Op.Backup, n]`, and the results
 * `[value | null ..., m, missing key ..., 2p, key, value ...]`. The product knows only the bytes
 * (protocol/batch-codec.ts); these convert, through the product's own writers and walker.
 */
import { BatchReader, BatchWriter, Op, ResultWriter, checkBatch, tokensOf } from '../../protocol/batch-codec.js';

/** One element of a batch or of its results in the flat form. */
export type FlatValue = string | number | null;

/** The reason a flat batch is malformed, or null. A BACKUP may stand anywhere (the in-memory store applies that too). */
function problem(ops: readonly unknown[]): string | null {
  for (let i = 0; i < ops.length; ) {
    const op = ops[i];
    if (op === Op.Show) {
      i += 1;
      continue;
    }
    const n = ops[i + 1];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return `operation at ${i}: bad count`;
    const width = tokensOf(op as number, n);
    if (width < 0) return `operation at ${i}: unknown op ${String(op)}`;
    const last = i + 2 + width;
    if (last > ops.length) return `operation at ${i}: truncated`;
    for (let j = i + 2; j < last; j++) if (typeof ops[j] !== 'string') return `operation at ${i}: not a string`;
    i = last;
  }
  return null;
}

/** A flat batch as bytes. Throws on a malformed batch. */
export function encodeOps(ops: readonly FlatValue[]): Uint8Array {
  const bad = problem(ops);
  if (bad !== null) throw new Error(`flat batch: ${bad}`);
  const w = new BatchWriter();
  for (let i = 0; i < ops.length; ) {
    const op = ops[i] as Op;
    if (op === Op.Show) {
      w.show();
      i += 1;
      continue;
    }
    const n = ops[i + 1] as number;
    const tokens = ops.slice(i + 2, i + 2 + tokensOf(op, n)) as string[];
    if (op === Op.Write) w.write(tokens);
    else if (op === Op.Read) w.read(tokens);
    else if (op === Op.Delete) w.delete(tokens);
    else w.backup(n);
    i += 2 + tokens.length;
  }
  return w.take();
}

/** A batch's bytes in the flat form. Throws on a malformed batch. */
export function decodeOps(bytes: Uint8Array): FlatValue[] {
  const check = checkBatch(bytes);
  if (!check.ok) throw new Error(`flat batch: ${check.error}`);
  const ops: FlatValue[] = [];
  const r = new BatchReader(bytes);
  while (!r.done) {
    const op = r.command();
    ops.push(op);
    if (op === Op.Show) continue;
    ops.push(r.n);
    for (let i = tokensOf(op, r.n); i > 0; i--) ops.push(r.token());
  }
  return ops;
}

/** A checked batch's results, given in the flat form, as bytes. */
export function encodeResults(ops: readonly FlatValue[], results: readonly FlatValue[]): Uint8Array {
  const w = new ResultWriter();
  let r = 0;
  for (let i = 0; i < ops.length; ) {
    const op = ops[i] as Op;
    if (op === Op.Show) {
      const width = results[r] as number;
      w.pairCount(width / 2);
      for (let j = r + 1; j < r + 1 + width; j += 2) w.pair(results[j] as string, results[j + 1] as string);
      r += 1 + width;
      i += 1;
      continue;
    }
    const n = ops[i + 1] as number;
    if (op === Op.Read) {
      for (let j = 0; j < n; j++) w.value((results[r++] as string | null) ?? undefined);
    } else if (op === Op.Delete) {
      const m = results[r] as number;
      // The missing keys come in order, and of a key listed twice only the first can have been
      // deleted: matching from the end puts each missing key on the right one of its copies.
      const flags: boolean[] = new Array<boolean>(n).fill(false);
      let next = m - 1;
      for (let j = n - 1; j >= 0 && next >= 0; j--) {
        if (results[r + 1 + next] === ops[i + 2 + j]) {
          flags[j] = true;
          next--;
        }
      }
      if (next !== -1) throw new Error('flat batch: DELETE results do not match its keys');
      for (const flag of flags) w.missing(flag);
      r += 1 + m;
    }
    i += 2 + tokensOf(op, n);
  }
  return w.take();
}

/** A checked batch's result bytes in the flat form. */
export function decodeResults(batch: Uint8Array, results: Uint8Array): FlatValue[] {
  const out: FlatValue[] = [];
  const b = new BatchReader(batch);
  const r = new BatchReader(results);
  while (!b.done) {
    const op = b.command();
    const n = b.n;
    if (op === Op.Show) {
      const pairs = r.count();
      out.push(2 * pairs);
      for (let i = 0; i < 2 * pairs; i++) out.push(r.token());
    } else if (op === Op.Read) {
      for (let i = 0; i < n; i++) {
        b.skipToken();
        out.push(r.bytes[r.at] === 0 ? (r.at++, null) : r.token());
      }
    } else if (op === Op.Delete) {
      const countAt = out.length;
      out.push(0);
      for (let i = 0; i < n; i++) {
        const key = b.token();
        if (r.byte() === 1) out.push(key);
      }
      out[countAt] = out.length - countAt - 1;
    } else {
      b.skipTokens(tokensOf(op, n));
    }
  }
  if (!r.done) throw new Error('flat batch: results longer than their batch');
  return out;
}

/** Applies a flat batch through the store seam (bytes in, bytes out) and gives its results flat. */
export async function applyFlat<S>(
  store: { apply(batch: Uint8Array, onBackup: (n: number, snapshot: S) => void): Promise<Uint8Array> },
  ops: readonly FlatValue[],
  onBackup: (n: number, snapshot: S) => void = () => undefined,
): Promise<FlatValue[]> {
  const batch = encodeOps(ops);
  return decodeResults(batch, await store.apply(batch, onBackup));
}
