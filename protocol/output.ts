/** The text a job writes to its `.out` and a backup to its `.bck` (DESIGN.md section 2). */
import type { Compat } from './compat.js';

export const WAITING = 'Waiting...\n';

export const HELP_TEXT =
  'Available commands:\n' +
  '  WRITE [(key,value)(key2,value2)...]\n' +
  '  READ [key,key2,...]\n' +
  '  DELETE [key,key2,...]\n' +
  '  SHOW\n' +
  '  WAIT <delay_ms>\n' +
  '  BACKUP\n' +
  '  HELP\n';

/** `[(k1,v1)(k2,KVSERROR)]`: `keys` already sorted, `values[i]` null when missing. */
export function formatRead(keys: readonly string[], values: readonly (string | null)[]): string {
  let s = '[';
  for (let i = 0; i < keys.length; i++) s += `(${keys[i]},${values[i] ?? 'KVSERROR'})`;
  return s + ']\n';
}

/** `[(k,KVSMISSING)...]` for the missing keys only; nothing at all when none is missing. */
export function formatDeleteMissing(missing: readonly string[]): string {
  if (missing.length === 0) return '';
  let s = '[';
  for (const key of missing) s += `(${key},KVSMISSING)`;
  return s + ']\n';
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
