import { mkdtemp, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { JobsWatcher } from '../../../runtime/batch/jobs-watcher.js';
import { waitUntil } from '../../helpers/processes.js';

async function watch(t: import('ava').ExecutionContext, existing: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-watch-'));
  for (const [name, text] of Object.entries(existing)) await writeFile(join(dir, name), text);
  const submitted: string[] = [];
  const watcher = await JobsWatcher.start(
    { jobsDir: dir, submitJob: (p) => void submitted.push(p.slice(dir.length + 1)), log: () => {}, settleMs: 30 },
    async () => Object.keys(existing).map((n) => join(dir, n)),
  );
  t.teardown(async () => {
    watcher.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, submitted };
}

test('a job file that arrives between the start of the watch and the listing is listed and not submitted again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-watch-'));
  const submitted: string[] = [];
  const watcher = await JobsWatcher.start({ jobsDir: dir, submitJob: (p) => void submitted.push(p.slice(dir.length + 1)), log: () => {}, settleMs: 30 }, async () => {
    // The watch has begun: a file renamed in now is seen by it, and by this listing.
    await writeFile(join(dir, 'race.tmp'), 'SHOW\n');
    await rename(join(dir, 'race.tmp'), join(dir, 'race.job'));
    return [join(dir, 'race.job')];
  });
  t.teardown(async () => {
    watcher.close();
    await rm(dir, { recursive: true, force: true });
  });
  t.deepEqual(watcher.initialJobs, [join(dir, 'race.job')]);
  // A later file settles after any duplicate of race.job would have.
  await writeFile(join(dir, 'later.job'), 'SHOW\n');
  await waitUntil('later.job submitted', () => submitted.includes('later.job'));
  t.deepEqual(submitted, ['later.job']);
});

test('a .job created while watching is submitted once it is complete, and only once', async (t) => {
  const { dir, submitted } = await watch(t);
  await writeFile(join(dir, 'update.job'), 'WRITE [(k,1)]\n');
  await waitUntil('update.job submitted', () => submitted.length === 1);
  // A later file settles after any duplicate of the first would have.
  await writeFile(join(dir, 'later.job'), 'SHOW\n');
  await waitUntil('later.job submitted', () => submitted.includes('later.job'));
  t.deepEqual(submitted, ['update.job', 'later.job']);
});

test('.out, .bck, temporary files and folders never trigger anything', async (t) => {
  const { dir, submitted } = await watch(t);
  await writeFile(join(dir, 'a.out'), 'x');
  await writeFile(join(dir, 'a-1.bck'), 'x');
  await writeFile(join(dir, 'a-1.bck.tmp'), 'x');
  await writeFile(join(dir, '.hidden.job'), 'x');
  await mkdir(join(dir, 'sub.job'));
  await writeFile(join(dir, 'marker.job'), 'SHOW\n');
  await waitUntil('marker.job submitted', () => submitted.includes('marker.job'));
  t.deepEqual(submitted, ['marker.job']);
});

test('a job rewritten or renamed into place runs again; one already run at start does not run until changed', async (t) => {
  const { dir, submitted } = await watch(t, { 'old.job': 'SHOW\n' });
  await writeFile(join(dir, 'tmp-editor'), 'WRITE [(a,1)]\n');
  await rename(join(dir, 'tmp-editor'), join(dir, 'edited.job'));
  await waitUntil('edited.job submitted', () => submitted.includes('edited.job'));
  await writeFile(join(dir, 'old.job'), 'SHOW\nSHOW\n');
  await waitUntil('old.job submitted after its change', () => submitted.includes('old.job'));
  t.deepEqual(submitted, ['edited.job', 'old.job']);
});
