/**
 * Lists the jobs folder by the one rule of protocol/job-files.ts. A module of its own, so that
 * main.ts lists the folder before the actors are loaded.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isJobFile } from '../../protocol/job-files.js';

/** The jobs directly inside the folder, in name order. */
export async function listJobs(jobsDir: string): Promise<string[]> {
  const entries = await readdir(jobsDir, { withFileTypes: true });
  return entries
    .filter((entry) => isJobFile(entry.name, entry))
    .map((entry) => join(jobsDir, entry.name))
    .sort();
}
