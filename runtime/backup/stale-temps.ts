/**
 * Temporary backup files left by a run that was killed (`kill -9` of the whole tree): a backup
 * child writes `<job>-<n>.bck.<pid>.tmp` and renames it when done, so a file of that name whose
 * process is gone can never be completed. Only such files are removed: our naming, a regular
 * file, a pid that no longer exists.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const TEMP_NAME = /^.+-\d+\.bck\.(\d+)\.tmp$/;

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
    const match = TEMP_NAME.exec(entry.name);
    if (match === null || !entry.isFile()) continue;
    const pid = Number(match[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || processExists(pid)) continue;
    // Another run removing it at the same moment is fine.
    await rm(join(dir, entry.name), { force: true });
    removed.push(entry.name);
  }
  return removed;
}
