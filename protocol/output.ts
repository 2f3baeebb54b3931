/** The text a job writes to its `.out` and a backup to its `.bck` (docs/DESIGN.md section 2). */
import type { BatchReader } from './batch-codec.js';
import type { Compat } from './compat.js';

export const WAITING = 'Waiting...\n';

/** HELP's text with this WRITE syntax line. */
const helpText = (write: string) =>
  'Available commands:\n' +
  `  WRITE ${write}\n` +
  '  READ [key,key2,...]\n' +
  '  DELETE [key,key2,...]\n' +
  '  SHOW\n' +
  '  WAIT <delay_ms>\n' +
  '  BACKUP\n' +
  '  HELP\n';

/**
 * HELP's text in each style: by default each command as it is accepted; in course mode the course
 * base code's own words, whose WRITE line has commas between the pairs (its examples have none).
 */
export const HELP_TEXT: Readonly<Record<Compat, string>> = {
  seed: helpText('[(key,value)(key2,value2)...]'),
  course: helpText('[(key,value),(key2,value2),...]'),
};

/** Where READ and DELETE lines are written as bytes: the job worker's `.out` buffer. */
export interface ByteOut {
  byte(c: number): void;
  /** `src[start, end)` */
  copy(src: Uint8Array, start: number, end: number): void;
  /** A byte string. */
  text(s: string): void;
}

const OPEN = 0x28; // (
const CLOSE = 0x29; // )
const COMMA = 0x2c; // ,
const LIST_OPEN = 0x5b; // [
const LIST_END = ']\n';

/**
 * READ's line `[(k1,v1)(k2,KVSERROR)]`, from its `n` keys in the batch (sorted when sent) and
 * their results (protocol/batch-codec.ts); both readers are left after them.
 */
export function formatRead(out: ByteOut, keys: BatchReader, values: BatchReader, n: number): void {
  out.byte(LIST_OPEN);
  for (let i = 0; i < n; i++) {
    keys.skipToken();
    out.byte(OPEN);
    out.copy(keys.bytes, keys.tokenStart, keys.at);
    out.byte(COMMA);
    if (values.skipToken() === 0) out.text('KVSERROR');
    else out.copy(values.bytes, values.tokenStart, values.at);
    out.byte(CLOSE);
  }
  out.text(LIST_END);
}

/**
 * DELETE's line `[(k,KVSMISSING)...]` for the missing keys only, nothing at all when none is
 * missing; from its `n` keys in the batch and their results; both readers are left after them.
 */
export function formatDeleteMissing(out: ByteOut, keys: BatchReader, flags: BatchReader, n: number): void {
  const first = flags.bytes.indexOf(1, flags.at);
  if (first < 0 || first >= flags.at + n) {
    for (let i = 0; i < n; i++) keys.skipToken();
    flags.at += n;
    return;
  }
  out.byte(LIST_OPEN);
  for (let i = 0; i < n; i++) {
    keys.skipToken();
    if (flags.byte() !== 1) continue;
    out.byte(OPEN);
    out.copy(keys.bytes, keys.tokenStart, keys.at);
    out.text(',KVSMISSING)');
  }
  out.text(LIST_END);
}

/** The separator between key and value on a SHOW or backup line. */
export function pairSeparator(compat: Compat): string {
  return compat === 'course' ? ', ' : ',';
}

/**
 * One SHOW line, and one line of a `.bck`: the one formatter for both, so that a `.bck` holds
 * exactly the SHOW text of the store at its BACKUP.
 */
export function formatPair(key: string, value: string, compat: Compat): string {
  return `(${key}${pairSeparator(compat)}${value})\n`;
}

/** SHOW lines, and the whole of a `.bck`: `flat` is key, value, key, value... sorted by key. */
export function formatPairs(flat: readonly string[], compat: Compat, from = 0, to = flat.length): string {
  let s = '';
  for (let i = from; i < to; i += 2) s += formatPair(flat[i]!, flat[i + 1]!, compat);
  return s;
}
