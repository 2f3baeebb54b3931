/** The text a job writes to its `.out` and a backup to its `.bck` (DESIGN.md section 2). */
import type { Compat } from './options.js';

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

/** SHOW lines, and the whole of a `.bck`: `flat` is key, value, key, value... sorted by key. */
export function formatPairs(flat: readonly string[], compat: Compat, from = 0, to = flat.length): string {
  const sep = pairSeparator(compat);
  let s = '';
  for (let i = from; i < to; i += 2) s += `(${flat[i]}${sep}${flat[i + 1]})\n`;
  return s;
}
