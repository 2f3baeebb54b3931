/**
 * The job language (docs/DESIGN.md section 2): one command a line. `parseLine` is total: it returns a
 * command, `null` for a blank line or a comment, or an `Invalid` with the reason.
 */
import type { Compat } from './compat.js';
import { assertNever } from './guards.js';
import { MAX_STRING_BYTES, RESERVED_LENGTHS, RESERVED_VALUES, checkToken, isTokenByte } from './keys.js';
import { didYouMean } from './suggest.js';

export type Command =
  | { readonly kind: 'write'; readonly pairs: readonly string[] } // flat: key, value, key, value...
  | { readonly kind: 'read'; readonly keys: readonly string[] }
  | { readonly kind: 'delete'; readonly keys: readonly string[] }
  | { readonly kind: 'show' }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'backup' }
  | { readonly kind: 'help' };

export interface Invalid {
  readonly kind: 'invalid';
  readonly reason: string;
}

export type ParsedLine = Command | Invalid | null;

/** The command words, as a job writes them. */
export const JOB_COMMANDS = ['WRITE', 'READ', 'DELETE', 'SHOW', 'WAIT', 'BACKUP', 'HELP'] as const;

/** setTimeout's ceiling: longer waits would fire at once. */
export const MAX_WAIT_MS = 2_147_483_647;

const SHOW: Command = { kind: 'show' };
const BACKUP: Command = { kind: 'backup' };
const HELP: Command = { kind: 'help' };

const isBlank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;

function invalid(reason: string): Invalid {
  return { kind: 'invalid', reason };
}

/**
 * `compat`: in course mode `WAIT 10 5` waits 10 ms, as the course's code does (it reads the delay
 * and skips the rest of the line); by default a WAIT line holds its delay alone (or a comment after it).
 */
export function parseLine(line: string, compat: Compat = 'seed'): ParsedLine {
  let start = 0;
  let end = line.length;
  while (start < end && isBlank(line.charCodeAt(start))) start++;
  while (end > start && isBlank(line.charCodeAt(end - 1))) end--;
  if (start === end || line.charCodeAt(start) === 0x23 /* # */) return null;

  let wordEnd = start;
  while (wordEnd < end && !isBlank(line.charCodeAt(wordEnd)) && line.charCodeAt(wordEnd) !== 0x5b) wordEnd++;
  const word = line.slice(start, wordEnd);
  let rest = wordEnd;
  while (rest < end && isBlank(line.charCodeAt(rest))) rest++;
  end = commandEnd(line, word, wordEnd, rest, end);
  if (rest > end) rest = end;

  switch (word) {
    case 'WRITE':
      return parseWrite(line, rest, end);
    case 'READ':
    case 'DELETE': {
      const keys = parseKeyList(line, rest, end, word);
      if (!Array.isArray(keys)) return keys as Invalid;
      return word === 'READ' ? { kind: 'read', keys } : { kind: 'delete', keys };
    }
    case 'SHOW':
    case 'BACKUP':
    case 'HELP':
      if (rest !== end) return invalid(`${word} takes no arguments`);
      return word === 'SHOW' ? SHOW : word === 'BACKUP' ? BACKUP : HELP;
    case 'WAIT':
      return parseWait(line.slice(rest, compat === 'course' ? tokenEnd(line, rest, end) : end));
    default:
      return invalid(word.length > 0 ? `unknown command '${word}'${didYouMean(word, JOB_COMMANDS)}` : 'a line must start with a command');
  }
}

/**
 * Where the command ends once a trailing comment is cut off: a `#` after a blank that follows the
 * complete command (`SHOW # all pairs`, `READ [a] #x`). A list command is complete at its first `]`
 * (no key holds one), so a `#` inside the brackets is part of a key; `WRITE [(a,1)]#x`, with no
 * blank before the `#`, is left whole and so rejected.
 */
function commandEnd(line: string, word: string, wordEnd: number, rest: number, end: number): number {
  let complete: number;
  switch (word) {
    case 'WRITE':
    case 'READ':
    case 'DELETE': {
      const close = line.indexOf(']', rest);
      if (close < 0 || close >= end) return end;
      complete = close + 1;
      break;
    }
    case 'WAIT':
      complete = tokenEnd(line, rest, end);
      break;
    default:
      complete = wordEnd;
  }
  let i = complete;
  while (i < end && isBlank(line.charCodeAt(i))) i++;
  return i > complete && i < end && line.charCodeAt(i) === 0x23 /* # */ ? complete : end;
}

/** Where the word at `from` ends: at the first blank, or `end`. */
function tokenEnd(line: string, from: number, end: number): number {
  let i = from;
  while (i < end && !isBlank(line.charCodeAt(i))) i++;
  return i;
}

function parseWait(arg: string): Command | Invalid {
  if (!/^[0-9]+$/.test(arg)) return invalid('WAIT needs a delay in milliseconds: WAIT <ms>');
  const ms = Number(arg);
  if (ms > MAX_WAIT_MS) return invalid(`WAIT delay ${arg} is longer than ${MAX_WAIT_MS} ms`);
  return { kind: 'wait', ms };
}

/**
 * Scans one key or value starting at `from` (blanks around it allowed) up to the delimiter
 * `stop`, in one pass. Returns the index of the delimiter, or -1 when something else stands
 * there; `token.value` receives the text. Bad tokens are explained by the caller's slow path.
 */
function scanToken(line: string, from: number, limit: number, stop: number, token: { value: string }): number {
  let i = from;
  while (i < limit && isBlank(line.charCodeAt(i))) i++;
  const start = i;
  while (i < limit && isTokenByte(line.charCodeAt(i))) i++;
  const end = i;
  while (i < limit && isBlank(line.charCodeAt(i))) i++;
  if (i >= limit ? stop !== -1 : line.charCodeAt(i) !== stop) return -1;
  token.value = line.slice(start, end);
  return i;
}

/** The reason a token that scanToken refused is wrong, from the text between two delimiters. */
function explain(line: string, from: number, limit: number, what: 'key' | 'value', usage: string): Invalid {
  const text = trimmed(line, from, limit);
  return invalid(checkToken(text, what) ?? usage);
}

/**
 * The checks scanToken leaves to do: the length, and for a value the reserved words. A value is
 * looked up in RESERVED_VALUES only when its length is one of theirs, which keeps a Set lookup
 * off the path of almost every value.
 */
function checkLength(token: string, what: 'key' | 'value'): string | null {
  if (token.length === 0 || token.length > MAX_STRING_BYTES) return checkToken(token, what);
  if (what === 'value' && RESERVED_LENGTHS.has(token.length) && RESERVED_VALUES.has(token)) {
    return checkToken(token, what);
  }
  return null;
}

/** `[k1,k2,...]` from `pos` to `end`; blanks around keys are allowed. */
function parseKeyList(line: string, pos: number, end: number, word: string): string[] | Invalid {
  const usage = `${word} needs a list of keys: ${word} [key1,key2,...]`;
  if (line.charCodeAt(pos) !== 0x5b || line.charCodeAt(end - 1) !== 0x5d) return invalid(usage);
  const close = end - 1;
  if (trimmed(line, pos + 1, close).length === 0) return invalid(`${word} needs at least one key`);
  const keys: string[] = [];
  const token = { value: '' };
  let i = pos + 1;
  for (;;) {
    let j = scanToken(line, i, close, 0x2c, token);
    if (j < 0) j = scanToken(line, i, close, -1, token);
    if (j < 0) {
      const next = line.indexOf(',', i);
      return explain(line, i, next < 0 || next > close ? close : next, 'key', usage);
    }
    const problem = checkLength(token.value, 'key');
    if (problem !== null) return invalid(problem);
    keys.push(token.value);
    if (j >= close) return keys;
    i = j + 1;
  }
}

/** `[(k1,v1)(k2,v2)...]` from `pos` to `end`. */
function parseWrite(line: string, pos: number, end: number): Command | Invalid {
  const usage = 'WRITE needs a list of pairs: WRITE [(key1,value1)(key2,value2)...]';
  if (line.charCodeAt(pos) !== 0x5b || line.charCodeAt(end - 1) !== 0x5d) return invalid(usage);
  const pairs: string[] = [];
  const token = { value: '' };
  let i = pos + 1;
  const close = end - 1;
  for (;;) {
    while (i < close && isBlank(line.charCodeAt(i))) i++;
    if (i === close) break;
    if (line.charCodeAt(i) !== 0x28) return invalid(usage);
    const comma = scanToken(line, i + 1, close, 0x2c, token);
    if (comma < 0) {
      const next = line.indexOf(',', i + 1);
      return next < 0 || next > close ? invalid(usage) : explain(line, i + 1, next, 'key', usage);
    }
    const key = token.value;
    const paren = scanToken(line, comma + 1, close, 0x29, token);
    if (paren < 0) {
      const next = line.indexOf(')', comma + 1);
      return next < 0 || next > close ? invalid(usage) : explain(line, comma + 1, next, 'value', usage);
    }
    const problem = checkLength(key, 'key') ?? checkLength(token.value, 'value');
    if (problem !== null) return invalid(problem);
    pairs.push(key, token.value);
    i = paren + 1;
  }
  if (pairs.length === 0) return invalid('WRITE needs at least one pair');
  return { kind: 'write', pairs };
}

function trimmed(line: string, from: number, to: number): string {
  while (from < to && isBlank(line.charCodeAt(from))) from++;
  while (to > from && isBlank(line.charCodeAt(to - 1))) to--;
  return line.slice(from, to);
}

/** The text of a command, as a job file would hold it (the inverse of parseLine). */
export function formatCommand(command: Command): string {
  switch (command.kind) {
    case 'write': {
      let s = 'WRITE [';
      for (let i = 0; i < command.pairs.length; i += 2) s += `(${command.pairs[i]},${command.pairs[i + 1]})`;
      return s + ']';
    }
    case 'read':
      return `READ [${command.keys.join(',')}]`;
    case 'delete':
      return `DELETE [${command.keys.join(',')}]`;
    case 'show':
      return 'SHOW';
    case 'wait':
      return `WAIT ${command.ms}`;
    case 'backup':
      return 'BACKUP';
    case 'help':
      return 'HELP';
    default:
      return assertNever(command);
  }
}
