/**
 * A backup's temporary file: a backup child writes the `.bck` under a temporary name in the same
 * folder and renames it into place when done. The name is short whatever the job's name (a
 * `.bck` name may be up to 255 bytes itself), holds the child's pid and a random part, and the
 * file is created exclusively and never through a link: a name someone else took first (a planted
 * symbolic link, a FIFO, any file) is never reused or followed; another name is tried.
 *
 * Temporary files left by a run that was killed (`kill -9` of the whole tree) can never be
 * completed: a file of our naming whose process is gone is removed at the next run's start, and
 * when a backup child dies under its backup. Only such files are removed: our naming, a regular
 * file, a pid that no longer exists.
 */
import { constants, openSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { errorCode } from '../../protocol/system-errors.js';

const RANDOM_BYTES = 6;
/** `.kvs-backup.<pid>.<12 hex digits>.tmp`: at most 42 bytes. */
const TEMP_NAME = new RegExp(`^\\.kvs-backup\\.(\\d+)\\.[0-9a-f]{${2 * RANDOM_BYTES}}\\.tmp$`);
/** Names tried before giving up: each taken one is someone else's file (or a planted link). */
export const MAX_TEMP_ATTEMPTS = 16;

/** Fresh temporary names for this process, without end. */
export function* tempNames(pid = process.pid): Generator<string> {
  for (;;) yield `.kvs-backup.${pid}.${randomBytes(RANDOM_BYTES).toString('hex')}.tmp`;
}

/**
 * Creates a new temporary file in `dir` (O_CREAT|O_EXCL|O_NOFOLLOW), trying `names` in turn while
 * a name is taken; returns its descriptor and path. Other errors (EACCES, ENOSPC...) throw as they are.
 */
export function createTemp(dir: string, names: Iterable<string> = tempNames()): { fd: number; path: string } {
  const next = names[Symbol.iterator]();
  for (let attempt = 0; attempt < MAX_TEMP_ATTEMPTS; attempt++) {
    const name = next.next();
    if (name.done === true) break;
    const path = join(dir, name.value);
    try {
      return { fd: openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644), path };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  throw new Error(`no free temporary name in ${dir} after ${MAX_TEMP_ATTEMPTS} tries (each was taken by another file)`);
}

/** The pid in a temporary name of ours; undefined for any other name. */
export function pidOfTemp(name: string): number | undefined {
  const match = TEMP_NAME.exec(name);
  const pid = match === null ? NaN : Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is someone else's; only ESRCH says it is gone.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes stale temporary backup files in `dir`; returns the names removed. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const removed: string[] = [];
  for (const entry of entries) {
    const pid = pidOfTemp(entry.name);
    if (pid === undefined || !entry.isFile() || processExists(pid)) continue;
    // Another run removing it at the same moment is fine.
    await rm(join(dir, entry.name), { force: true });
    removed.push(entry.name);
  }
  return removed;
}
