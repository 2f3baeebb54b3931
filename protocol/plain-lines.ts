/**
 * The job language's most common lines, from the file's bytes straight into a batch, with no
 * string made: `WRITE [(k,v)(k,v)...]`, `READ [k,k,...]` and `DELETE [k,k,...]` written in
 * their plain form (one space after the word, no other blank, no comment, an optional CR).
 * Anything else, and any plain line that breaks a rule, is declined: the caller then parses the
 * line with `parseLine` (protocol/job-language.ts), which decides and explains. So a line this
 * accepts is one `parseLine` accepts, with the same keys and values (a test checks it).
 */
import { BatchWriter, Op } from './batch-codec.js';
import { MAX_STRING_BYTES, RESERVED_VALUES, checkToken } from './keys.js';

/** The bytes a key or value may hold, from the one rule in keys.ts. */
const TOKEN_BYTE = new Uint8Array(256).map((_, c) => (checkToken(String.fromCharCode(c), 'key') === null ? 1 : 0));

const RESERVED = [...RESERVED_VALUES].map((word) => Uint8Array.from(word, (c) => c.charCodeAt(0)));

const W = 0x57;
const R = 0x52;
const D = 0x44;
const OPEN = 0x28;
const CLOSE = 0x29;
const COMMA = 0x2c;
const LIST_CLOSE = 0x5d;

/** Token bounds of a READ or DELETE, sorted in place (few keys: insertion sort). */
let starts = new Int32Array(64);
let ends = new Int32Array(64);

function isWord(b: Uint8Array, at: number, end: number, word: string): boolean {
  if (end - at < word.length) return false;
  for (let i = 0; i < word.length; i++) if (b[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** The end of a token starting at `at` (0 bytes when none), stopping before `limit`. */
function tokenEnd(b: Uint8Array, at: number, limit: number): number {
  let i = at;
  while (i < limit && TOKEN_BYTE[b[i]!] === 1) i++;
  return i;
}

function isReserved(b: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n !== 7 && n !== 8 && n !== 10) return false;
  outer: for (const word of RESERVED) {
    if (word.length !== n) continue;
    for (let i = 0; i < n; i++) if (b[start + i] !== word[i]) continue outer;
    return true;
  }
  return false;
}

/** Byte order of two tokens (C `strcmp` order), as `compareKeys` orders their strings. */
function compareBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = b[s1 + i]! - b[s2 + i]!;
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/**
 * Appends the line `b[start, end)` to the batch when it is a plain WRITE, READ or DELETE (the
 * keys of READ and DELETE sorted, as the job worker sends them); returns false, with the batch
 * unchanged, for any other line.
 */
export function appendPlainLine(batch: BatchWriter, b: Uint8Array, start: number, end: number): boolean {
  if (end > start && b[end - 1] === 0x0d) end--;
  const first = b[start];
  if (first === W) return isWord(b, start, end, 'WRITE [(') && appendWrite(batch, b, start + 7, end);
  if (first === R) return isWord(b, start, end, 'READ [') && appendKeys(batch, Op.Read, b, start + 6, end);
  if (first === D) return isWord(b, start, end, 'DELETE [') && appendKeys(batch, Op.Delete, b, start + 8, end);
  return false;
}

/** `(k,v)(k,v)...]` from `at` (which holds the first `(`) to `end`. */
function appendWrite(batch: BatchWriter, b: Uint8Array, at: number, end: number): boolean {
  if (end - at < 6 || b[end - 1] !== LIST_CLOSE) return false;
  const close = end - 1;
  const mark = batch.length;
  const place = batch.beginList(Op.Write);
  let pairs = 0;
  let i = at;
  while (i < close) {
    const keyEnd = b[i] === OPEN ? tokenEnd(b, i + 1, close) : -1;
    const keyLength = keyEnd - i - 1;
    if (keyLength < 1 || keyLength > MAX_STRING_BYTES || b[keyEnd] !== COMMA) break;
    const valueEnd = tokenEnd(b, keyEnd + 1, close);
    const valueLength = valueEnd - keyEnd - 1;
    if (valueLength < 1 || valueLength > MAX_STRING_BYTES || b[valueEnd] !== CLOSE || isReserved(b, keyEnd + 1, valueEnd)) break;
    batch.tokenBytes(b, i + 1, keyEnd);
    batch.tokenBytes(b, keyEnd + 1, valueEnd);
    pairs++;
    i = valueEnd + 1;
  }
  if (i !== close || pairs === 0) {
    batch.length = mark;
    return false;
  }
  batch.endList(place, pairs);
  return true;
}

/** `k,k,...]` from `at` to `end`. */
function appendKeys(batch: BatchWriter, op: Op, b: Uint8Array, at: number, end: number): boolean {
  if (b[end - 1] !== LIST_CLOSE) return false;
  const close = end - 1;
  let n = 0;
  let i = at;
  for (;;) {
    const e = tokenEnd(b, i, close);
    if (e - i < 1 || e - i > MAX_STRING_BYTES) return false;
    if (n === starts.length) {
      starts = Int32Array.from({ length: 2 * n }, (_, j) => starts[j] ?? 0);
      ends = Int32Array.from({ length: 2 * n }, (_, j) => ends[j] ?? 0);
    }
    // Insertion sort as the keys come: lists are short.
    let j = n++;
    while (j > 0 && compareBytes(b, i, e, starts[j - 1]!, ends[j - 1]!) < 0) {
      starts[j] = starts[j - 1]!;
      ends[j] = ends[j - 1]!;
      j--;
    }
    starts[j] = i;
    ends[j] = e;
    if (e === close) break;
    if (b[e] !== COMMA) return false;
    i = e + 1;
  }
  const place = batch.beginList(op);
  for (let j = 0; j < n; j++) batch.tokenBytes(b, starts[j]!, ends[j]!);
  batch.endList(place, n);
  return true;
}

