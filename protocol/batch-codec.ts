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
 * The Redis store's script reads the same bytes and answers in the same results layout, and the
 * change messages it publishes are batches of WRITEs and DELETEs: its op codes and the walk come
 * from here (`LUA_LAYOUT`), so a change to the layout is a change to this file.
 */

import { MAX_STRING_BYTES } from './keys.js';

export const Op = { Write: 1, Read: 2, Delete: 3, Show: 4, Backup: 5 } as const;
export type Op = (typeof Op)[keyof typeof Op];

/** The longest token the layout carries (one length byte). Keys and values are at most 40. */
export const MAX_TOKEN_BYTES = 255;

/**
 * Tokens that follow a command's count, per unit of the count (n pairs for a WRITE, n keys for a
 * READ or DELETE, none for a BACKUP, whose count is its number); a SHOW has no count. The one
 * statement of how long a command is.
 */
const TOKENS_PER_COUNT: Readonly<Partial<Record<number, number>>> = { [Op.Write]: 2, [Op.Read]: 1, [Op.Delete]: 1, [Op.Backup]: 0 };

/** How many tokens follow the count `n` of a command `op` (not a SHOW); -1 for an unknown op. */
export function tokensOf(op: number, n: number): number {
  const per = TOKENS_PER_COUNT[op];
  return per === undefined ? -1 : per * n;
}

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
 * over and over; a key that is new only costs the hash of its bytes. The program's store no longer
 * makes key strings (runtime/store/byte-table.ts); this is kept as the `Map` baseline that
 * bench/store-table-bench.ts measures the byte table against.
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
 * The walker: reads a batch or its results a field at a time. `command()` reads a command's head
 * (its op and count) and `skipTokens(tokensOf(op, n))` steps over what it carries; the caller
 * reads a command's tokens in between, as its op says. Fields are read without bounds checks:
 * check a batch with `checkBatch` first.
 */
export class BatchReader {
  at = 0;
  /** After `skipToken`, the token's bytes are `bytes[tokenStart, at)`. */
  tokenStart = 0;
  /** After `command()`, the command's count (0 for a SHOW, which has none). */
  n = 0;

  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  /** The next command's op; its count, if it has one, is then in `n`. */
  command(): number {
    const op = this.bytes[this.at++]!;
    this.n = op === Op.Show ? 0 : this.count();
    return op;
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

  /** Steps over the next token; returns its length (0: a missing value). */
  skipToken(): number {
    const n = this.bytes[this.at]!;
    this.tokenStart = this.at + 1;
    this.at += 1 + n;
    return n;
  }

  /** Steps over `k` tokens. */
  skipTokens(k: number): void {
    const b = this.bytes;
    let at = this.at;
    for (let i = 0; i < k; i++) at += 1 + b[at]!;
    this.at = at;
  }
}

export type BatchCheck =
  | { readonly ok: true; readonly commands: number; readonly shows: number; readonly backup: number | null }
  | { readonly ok: false; readonly error: string };

/**
 * Checks a batch's bytes before any of it is applied, so a malformed batch is refused whole:
 * known op codes, tokens of 1..MAX_STRING_BYTES bytes inside the buffer (the protocol's fields:
 * the in-memory store keeps no longer ones), a BACKUP only at the end. Returns the number of its
 * commands and of its SHOWs, and the number of the BACKUP that ends it, if one does. (The Redis
 * script checks the same in Lua: `LUA_LAYOUT`, with the same words.)
 */
export function checkBatch(bytes: Uint8Array): BatchCheck {
  const end = bytes.length;
  const r = new BatchReader(bytes);
  let commands = 0;
  let shows = 0;
  while (r.at < end) {
    const at = r.at;
    const op = r.byte();
    commands++;
    if (op === Op.Show) {
      shows++;
      continue;
    }
    if (tokensOf(op, 0) < 0) return { ok: false, error: `command at byte ${at}: unknown op ${op}` };
    if (r.at + 4 > end) return { ok: false, error: `command at byte ${at}: truncated count` };
    const n = r.count();
    if (op === Op.Backup) {
      // A BACKUP ends its batch: the job waits there for a free backup slot.
      if (r.at !== end) return { ok: false, error: `command at byte ${at}: BACKUP not at the end of its batch` };
      return { ok: true, commands, shows, backup: n };
    }
    const tokens = tokensOf(op, n);
    for (let i = 0; i < tokens; i++) {
      if (r.at >= end) return { ok: false, error: `command at byte ${at}: truncated` };
      const length = r.skipToken();
      if (length === 0) return { ok: false, error: `command at byte ${at}: empty string` };
      if (length > MAX_STRING_BYTES) return { ok: false, error: `command at byte ${at}: a string of ${length} bytes, longer than ${MAX_STRING_BYTES}` };
      if (r.at > end) return { ok: false, error: `command at byte ${at}: truncated` };
    }
  }
  return { ok: true, commands, shows, backup: null };
}

/** Op codes as Lua constants, from `Op`. */
const luaOps = Object.entries(Op)
  .map(([name, code]) => `local ${name.toUpperCase()} = ${code}`)
  .join('\n');

/** `TOKENS_PER_COUNT` as a Lua table. */
const luaTokensPer = `{ ${Object.entries(TOKENS_PER_COUNT)
  .map(([code, per]) => `[${code}] = ${per}`)
  .join(', ')} }`;

/**
 * The layout for Lua (the Redis store's script, runtime/redis/batch-script.ts), from the same
 * constants: the op codes; `TOKENS_PER[op]` (nil for an unknown op, and for SHOW, which has no
 * count); `count(s, p)`, the count at byte p (1-based); `u32(n)`, a count's bytes; `BYTE[b]`,
 * the one-byte string of b (a token's length byte, an op code); `readTokens(s, p, k)`, the k
 * tokens from byte p, and the byte after them (a Lua error if the batch ends first: one C call
 * per thousand tokens, Redis's struct library); `MISSING_VALUE`, a READ's result for a missing
 * key; `DELETED` and `WAS_MISSING`, a DELETE's result per key; `checkCommand(s, p, size)`, which
 * checks the command at p as `checkBatch` does, in its words, and returns the byte after it, or
 * nil and the reason.
 */
export const LUA_LAYOUT = `${luaOps}
local TOKENS_PER = ${luaTokensPer}
local MAX_TOKEN_BYTES = ${MAX_TOKEN_BYTES}
local MISSING_VALUE, DELETED, WAS_MISSING = '\\0', '\\0', '\\1'
local BYTE = {}
for b = 0, 255 do BYTE[b] = string.char(b) end
local function count(s, p)
  local a, b, c, d = string.byte(s, p, p + 3)
  return ((d * 256 + c) * 256 + b) * 256 + a
end
local function u32(n)
  return string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256, math.floor(n / 16777216) % 256)
end
local TOKENS_FORMAT = {}
local function tokensFormat(k)
  local f = TOKENS_FORMAT[k]
  if f == nil then
    f = '<' .. string.rep('Bc0', k)
    TOKENS_FORMAT[k] = f
  end
  return f
end
local function readTokens(s, p, k)
  if k > #s - p + 1 then error('truncated') end
  local t, done = {}, 0
  while done < k do
    local n = math.min(1000, k - done)
    local part = { struct.unpack(tokensFormat(n), s, p) }
    if done == 0 and n == k then
      p = part[k + 1]
      part[k + 1] = nil
      return part, p
    end
    for j = 1, n do t[done + j] = part[j] end
    p = part[n + 1]
    done = done + n
  end
  return t, p
end
local function checkCommand(s, p, size)
  local at = p - 1
  local op = string.byte(s, p)
  if op == SHOW then return p + 1 end
  local per = TOKENS_PER[op]
  if per == nil then return nil, 'command at byte ' .. at .. ': unknown op ' .. op end
  if p + 4 > size then return nil, 'command at byte ' .. at .. ': truncated count' end
  local tokens = per * count(s, p + 1)
  p = p + 5
  for i = 1, tokens do
    if p > size then return nil, 'command at byte ' .. at .. ': truncated' end
    local length = string.byte(s, p)
    if length == 0 then return nil, 'command at byte ' .. at .. ': empty string' end
    p = p + 1 + length
    if p > size + 1 then return nil, 'command at byte ' .. at .. ': truncated' end
  end
  return p
end`;
