/**
 * One rule for which files are jobs: the folder listed at start (listJobs) and the folder watched
 * while serving (JobsWatcher) take the same files from the same folder.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { listJobs } from '../../../runtime/batch/job-listing.js';
import { JobsWatcher } from '../../../runtime/batch/jobs-watcher.js';
import { tempDir, waitUntil } from '../../helpers/processes.js';

/** Entries that look like jobs to a looser rule, and the one that is a job. */
async function fill(dir: string, prefix: string): Promise<void> {
  await writeFile(join(dir, `${prefix}real.job`), 'SHOW\n');
  await writeFile(join(dir, `.${prefix}hidden.job`), 'SHOW\n');
  await mkdir(join(dir, `${prefix}folder.job`));
  await symlink(join(dir, `${prefix}real.job`), join(dir, `${prefix}link.job`));
  await writeFile(join(dir, `${prefix}real.job.tmp`), 'SHOW\n');
}

test('listJobs takes only regular files named *.job: no dotfile, folder or symlink', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, '');
  await writeFile(join(dir, '.job'), 'SHOW\n');
  t.deepEqual(await listJobs(dir), [join(dir, 'real.job')]);
});

test('the watcher applies the same rule to files that appear while serving', async (t) => {
  const dir = await tempDir(t);
  const submitted: string[] = [];
  const watcher = await JobsWatcher.start({ jobsDir: dir, submitJob: (p) => void submitted.push(p), log: () => {}, settleMs: 30 }, () => listJobs(dir));
  t.teardown(() => watcher.close());
  await fill(dir, 'new-');
  await writeFile(join(dir, 'marker.job'), 'SHOW\n');
  await waitUntil('marker.job and new-real.job submitted', () => submitted.length >= 2);
  // Anything the watcher wrongly took would have settled with the others: the marker came last.
  await waitUntil('marker.job submitted', () => submitted.includes(join(dir, 'marker.job')));
  t.deepEqual(submitted.sort(), (await listJobs(dir)).sort());
});
