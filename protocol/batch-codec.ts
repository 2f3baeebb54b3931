/**
 * The layout of a batch on the bus, in one place: its encoder (the job worker), its validator and
 * decoder (the store), and the results both ways. A batch is one byte buffer carried as a
 * msgpackr `bin` inside its bus message (protocol/bus.ts), so a batch of thousands of commands
 * costs one message and no per-key strings on the way (the in-memory store reads the keys from
 * its bytes too).
 *
 * Batch (worker -> store), commands one after another; `n` is a u32 little-endian, a token is
 * one length byte (1..255) and that many bytes (a byte string: one latin1 char per byte):
 *   WRITE  Op.Write  n  key value ... (n pairs)   -> nothing
 *   READ   Op.Read   n  key ... (n keys)          -> per key: its value as a token, or a 0 byte when missing
 *   DELETE Op.Delete n  key ... (n keys)          -> per key: one byte, 1 when it was missing, else 0
 *   SHOW   Op.Show                                -> p (u32), then p pairs key value (in no order)
 *   BACKUP Op.Backup n                            -> nothing; n is the backup's number in its job
 * Results (store -> worker) are the commands' results one after another, in the same order.
 *
 * Rules: a BACKUP ends its batch (the job waits there for a backup slot), and the worker ends a
 * batch at each SHOW, so a batch's results hold at most one copy of the store.
 *
 * The same batch also has a flat form, `[Op.Write, n, k1, v1, ..., Op.Read, n, k1, ...]` with
 * the results `[value | null ..., m, missing key ..., 2p, key, value ...]`, for code that walks
 * a batch as values (the Redis store, tests): `encodeOps`/`decodeOps` and `encodeResults`/
 * `decodeResults` convert between the two.
 */

import { MAX_STRING_BYTES } from './keys.js';

export const Op = { Write: 1, Read: 2, Delete: 3, Show: 4, Backup: 5 } as const;
export type Op = (typeof Op)[keyof typeof Op];

/** One element of a batch or its results in the flat form. */
export type BusValue = string | number | null;

/** The longest token the layout carries (one length byte). Keys and values are at most 40. */
export const MAX_TOKEN_BYTES = 255;

const INITIAL_BYTES = 1 << 16;

/** A byte string from `length` bytes at `at`: short ones without a call into C++. */
export function latin1(bytes: Uint8Array, at: number, length: number): string {
  const b = bytes;
  const i = at;
  switch (length) {
    case 1:
      return String.fromCharCode(b[i]!);
    case 2:
      return String.fromCharCode(b[i]!, b[i + 1]!);
    case 3:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!);
    case 4:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    case 5:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!);
    case 6:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!);
    case 7:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!);
    case 8:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
    case 9:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!);
    case 10:
      return String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!);
    default:
      return length <= 0 ? '' : latin1(b, i, 10) + latin1(b, i + 10, length - 10);
  }
}

const INTERN_BITS = 16;
/** Recently made key strings, by a hash of their bytes (a slot holds the last one that hashed there). */
const interned: (string | undefined)[] = new Array<string | undefined>(1 << INTERN_BITS).fill(undefined);

/**
 * `latin1`, but a key met recently comes back as the same string as before: no new string to
 * make, and V8 has its hash already, so the Map finds it at once. Jobs use a working set of keys
 * over and over; a key that is new only costs the hash of its bytes.
 */
export function internLatin1(bytes: Uint8Array, at: number, length: number): string {
  let h = 0x811c9dc5 ^ length;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ bytes[at + i]!, 0x01000193);
  const slot = h >>> (32 - INTERN_BITS);
  const known = interned[slot];
  if (known !== undefined && known.length === length) {
    let i = 0;
    while (i < length && known.charCodeAt(i) === bytes[at + i]) i++;
    if (i === length) return known;
  }
  const made = latin1(bytes, at, length);
  interned[slot] = made;
  return made;
}

/** A growable byte buffer that writes tokens and counts: the base of both writers. */
class ByteWriter {
  protected bytes: Uint8Array = new Uint8Array(INITIAL_BYTES);
  /** Bytes written so far. */
  length = 0;

  protected room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  protected u32(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`batch codec: bad count ${n}`);
    this.room(4);
    const b = this.bytes;
    const at = this.length;
    b[at] = n & 0xff;
    b[at + 1] = (n >>> 8) & 0xff;
    b[at + 2] = (n >>> 16) & 0xff;
    b[at + 3] = n >>> 24;
    this.length = at + 4;
  }

  protected token(s: string): void {
    const n = s.length;
    if (n > MAX_TOKEN_BYTES) throw new RangeError(`batch codec: a string of ${n} bytes is longer than ${MAX_TOKEN_BYTES}`);
    this.room(n + 1);
    const b = this.bytes;
    let at = this.length;
    b[at++] = n;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) throw new RangeError('batch codec: not a byte string (a char above 0xff)');
      b[at++] = c;
    }
    this.length = at;
  }

  /** A token from `src[start, end)` (1 to 255 bytes, checked by the caller). */
  tokenBytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.room(n + 1);
    const b = this.bytes;
    let at = this.length;
    b[at++] = n;
    for (let i = start; i < end; i++) b[at++] = src[i]!;
    this.length = at;
  }

  /** A copy of what was written, and the writer emptied for the next batch. */
  take(): Uint8Array {
    const out = this.bytes.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

/** Builds batches: the job worker's side of the layout. */
export class BatchWriter extends ByteWriter {
  /** Commands in the batch so far. */
  commands = 0;

  write(pairs: readonly string[]): void {
    this.list(Op.Write, pairs, pairs.length / 2);
  }

  read(keys: readonly string[]): void {
    this.list(Op.Read, keys, keys.length);
  }

  delete(keys: readonly string[]): void {
    this.list(Op.Delete, keys, keys.length);
  }

  show(): void {
    this.room(1);
    this.bytes[this.length++] = Op.Show;
    this.commands++;
  }

  backup(n: number): void {
    this.room(1);
    this.bytes[this.length++] = Op.Backup;
    this.u32(n);
    this.commands++;
  }

  /**
   * Starts a WRITE, READ or DELETE whose tokens are then copied in with `tokenBytes`; returns
   * the place of its count, for `endList`. (The job worker's way from a file's bytes.)
   */
  beginList(op: Op): number {
    this.room(5);
    this.bytes[this.length] = op;
    this.length += 5;
    return this.length - 4;
  }

  /** Ends the command begun at `place` with its count: n pairs for a WRITE, n keys otherwise. */
  endList(place: number, n: number): void {
    const b = this.bytes;
    b[place] = n & 0xff;
    b[place + 1] = (n >>> 8) & 0xff;
    b[place + 2] = (n >>> 16) & 0xff;
    b[place + 3] = n >>> 24;
    this.commands++;
  }

  private list(op: Op, tokens: readonly string[], n: number): void {
    this.room(1);
    this.bytes[this.length++] = op;
    this.u32(n);
    for (let i = 0; i < tokens.length; i++) this.token(tokens[i]!);
    this.commands++;
  }

  override take(): Uint8Array {
    this.commands = 0;
    return super.take();
  }

  private readonly spare: Uint8Array[] = [];

  /**
   * The batch so far without a copy: a view of the writer's buffer, which is the caller's until
   * it gives it back with `recycle`; the writer goes on in another buffer. (A job worker makes
   * almost no garbage, so its GC runs rarely: a fresh buffer per batch would pile up dead
   * external memory until it did.)
   */
  takeView(): Uint8Array {
    const view = this.bytes.subarray(0, this.length);
    this.bytes = this.spare.pop() ?? new Uint8Array(INITIAL_BYTES);
    this.length = 0;
    this.commands = 0;
    return view;
  }

  /** Drops what was written and not taken: a stopped job's unsent commands. */
  clear(): void {
    this.length = 0;
    this.commands = 0;
  }

  /** Gives back a view from `takeView` once nothing reads it any more. */
  recycle(view: Uint8Array): void {
    this.spare.push(new Uint8Array(view.buffer, view.byteOffset, view.buffer.byteLength - view.byteOffset));
  }
}

/** Builds a batch's results: the store's side of the layout. */
export class ResultWriter extends ByteWriter {
  /** A READ's result for one key. */
  value(value: string | undefined): void {
    if (value === undefined) this.absent();
    else this.token(value);
  }

  /** A READ's result for a key that is missing. */
  absent(): void {
    this.room(1);
    this.bytes[this.length++] = 0;
  }

  /** A DELETE's result for one key. */
  missing(missing: boolean): void {
    this.room(1);
    this.bytes[this.length++] = missing ? 1 : 0;
  }

  /** A SHOW's pair count, before its pairs. */
  pairCount(pairs: number): void {
    this.u32(pairs);
  }

  pair(key: string, value: string): void {
    this.token(key);
    this.token(value);
  }
}

/**
 * Reads a batch or its results a field at a time; the caller knows the layout's order (it
 * follows the op codes). Fields are read without bounds checks: check a batch with `checkBatch`
 * first.
 */
export class BatchReader {
  at = 0;
  /** After `skipToken`, the token's bytes are `bytes[tokenStart, at)`. */
  tokenStart = 0;

  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  byte(): number {
    return this.bytes[this.at++]!;
  }

  count(): number {
    const b = this.bytes;
    const at = this.at;
    this.at = at + 4;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
  }

  /** The next token as a byte string. */
  token(): string {
    const n = this.bytes[this.at]!;
    const s = latin1(this.bytes, this.at + 1, n);
    this.at += 1 + n;
    return s;
  }

  /** The next token as a byte string, for a Map key (see `internLatin1`). */
  key(): string {
    const n = this.bytes[this.at]!;
    const s = internLatin1(this.bytes, this.at + 1, n);
    this.at += 1 + n;
    return s;
  }

  /** Steps over the next token; returns its length (0: a missing value). */
  skipToken(): number {
    const n = this.bytes[this.at]!;
    this.tokenStart = this.at + 1;
    this.at += 1 + n;
    return n;
  }
}

export type BatchCheck =
  | { readonly ok: true; readonly commands: number; readonly backup: number | null }
  | { readonly ok: false; readonly error: string };

/**
 * Checks a batch's bytes before any of it is applied, so a malformed batch is refused whole:
 * known op codes, tokens of 1..MAX_STRING_BYTES bytes inside the buffer (the protocol's fields:
 * the in-memory store keeps no longer ones), a BACKUP only at the end. Returns
 * the number of its commands and the number of the BACKUP that ends it, if one does.
 */
export function checkBatch(bytes: Uint8Array): BatchCheck {
  const end = bytes.length;
  const r = new BatchReader(bytes);
  let commands = 0;
  while (r.at < end) {
    const at = r.at;
    const op = r.byte();
    commands++;
    if (op === Op.Show) continue;
    if (op !== Op.Write && op !== Op.Read && op !== Op.Delete && op !== Op.Backup) return { ok: false, error: `command at byte ${at}: unknown op ${op}` };
    if (r.at + 4 > end) return { ok: false, error: `command at byte ${at}: truncated count` };
    const n = r.count();
    if (op === Op.Backup) {
      // A BACKUP ends its batch: the job waits there for a free backup slot.
      if (r.at !== end) return { ok: false, error: `command at byte ${at}: BACKUP not at the end of its batch` };
      return { ok: true, commands, backup: n };
    }
    const tokens = op === Op.Write ? 2 * n : n;
    for (let i = 0; i < tokens; i++) {
      if (r.at >= end) return { ok: false, error: `command at byte ${at}: truncated` };
      const length = r.skipToken();
      if (length === 0) return { ok: false, error: `command at byte ${at}: empty string` };
      if (length > MAX_STRING_BYTES) return { ok: false, error: `command at byte ${at}: a string of ${length} bytes, longer than ${MAX_STRING_BYTES}` };
      if (r.at > end) return { ok: false, error: `command at byte ${at}: truncated` };
    }
  }
  return { ok: true, commands, backup: null };
}

/**
 * Checks a batch in the flat form before any of it is applied. Returns the reason, or null when
 * the batch is well formed.
 */
export function checkOps(ops: readonly unknown[]): string | null {
  return opsProblem(ops, true);
}

function opsProblem(ops: readonly unknown[], backupEnds: boolean): string | null {
  let i = 0;
  while (i < ops.length) {
    const op = ops[i];
    if (op === Op.Show) {
      i += 1;
      continue;
    }
    const n = ops[i + 1];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return `operation at ${i}: bad count`;
    if (op === Op.Backup) {
      if (backupEnds && i + 2 !== ops.length) return `operation at ${i}: BACKUP not at the end of its batch`;
      i += 2;
      continue;
    }
    const width = op === Op.Write ? 2 * n : op === Op.Read || op === Op.Delete ? n : -1;
    if (width < 0) return `operation at ${i}: unknown op ${String(op)}`;
    const last = i + 2 + width;
    if (last > ops.length) return `operation at ${i}: truncated`;
    for (let j = i + 2; j < last; j++) if (typeof ops[j] !== 'string') return `operation at ${i}: not a string`;
    i = last;
  }
  return null;
}

/**
 * A batch in the flat form, as bytes. Throws on a malformed batch. A BACKUP may stand anywhere
 * (the store applies that too: its tests take several snapshots in one batch); the bus refuses it.
 */
export function encodeOps(ops: readonly BusValue[]): Uint8Array {
  const problem = opsProblem(ops, false);
  if (problem !== null) throw new Error(`batch codec: ${problem}`);
  const w = new BatchWriter();
  for (let i = 0; i < ops.length; ) {
    const op = ops[i] as Op;
    if (op === Op.Show) {
      w.show();
      i += 1;
      continue;
    }
    const n = ops[i + 1] as number;
    if (op === Op.Backup) {
      w.backup(n);
      i += 2;
      continue;
    }
    const width = op === Op.Write ? 2 * n : n;
    const tokens = ops.slice(i + 2, i + 2 + width) as string[];
    if (op === Op.Write) w.write(tokens);
    else if (op === Op.Read) w.read(tokens);
    else w.delete(tokens);
    i += 2 + width;
  }
  return w.take();
}

/** A batch's bytes in the flat form. Throws on a malformed batch. */
export function decodeOps(bytes: Uint8Array): BusValue[] {
  const check = checkBatch(bytes);
  if (!check.ok) throw new Error(`batch codec: ${check.error}`);
  const ops: BusValue[] = [];
  const r = new BatchReader(bytes);
  while (!r.done) {
    const op = r.byte() as Op;
    ops.push(op);
    if (op === Op.Show) continue;
    const n = r.count();
    ops.push(n);
    if (op === Op.Backup) continue;
    const tokens = op === Op.Write ? 2 * n : n;
    for (let i = 0; i < tokens; i++) ops.push(r.token());
  }
  return ops;
}

/** A checked batch's results, given in the flat form, as bytes. */
export function encodeResults(ops: readonly BusValue[], results: readonly BusValue[]): Uint8Array {
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
      if (next !== -1) throw new Error('batch codec: DELETE results do not match its keys');
      for (const flag of flags) w.missing(flag);
      r += 1 + m;
    }
    i += 2 + (op === Op.Write ? 2 * n : op === Op.Backup ? 0 : n);
  }
  return w.take();
}

/** A checked batch's result bytes in the flat form. */
export function decodeResults(batch: Uint8Array, results: Uint8Array): BusValue[] {
  const out: BusValue[] = [];
  const b = new BatchReader(batch);
  const r = new BatchReader(results);
  while (!b.done) {
    const op = b.byte() as Op;
    if (op === Op.Show) {
      const pairs = r.count();
      out.push(2 * pairs);
      for (let i = 0; i < 2 * pairs; i++) out.push(r.token());
      continue;
    }
    const n = b.count();
    if (op === Op.Write) {
      for (let i = 0; i < 2 * n; i++) b.skipToken();
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
    }
  }
  if (!r.done) throw new Error('batch codec: results longer than their batch');
  return out;
}
