/**
 * Lists the jobs folder by the one rule of protocol/job-files.ts, and supplies that to the
 * supervisor, whose machine names the listing but does no I/O itself.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fromPromise } from 'xstate';
import { supervisorMachine } from '../actors/supervisor.js';
import { isJobFile } from '../protocol/job-files.js';

/** The jobs directly inside the folder, in name order. */
export async function listJobs(jobsDir: string): Promise<string[]> {
  const entries = await readdir(jobsDir, { withFileTypes: true });
  return entries
    .filter((entry) => isJobFile(entry.name, entry))
    .map((entry) => join(jobsDir, entry.name))
    .sort();
}

/** The supervisor with its I/O supplied: it lists the jobs folder by the rule above. */
export const folderSupervisorMachine = supervisorMachine.provide({
  actors: { listJobs: fromPromise<string[], string>(({ input }) => listJobs(input)) },
});
