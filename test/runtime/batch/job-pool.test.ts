/**
 * How the job pool spends worker threads (runtime/batch/job-pool.ts): a small job queued behind a busy
 * thread waits for it instead of starting a thread at once; a big job file, or a queue that does
 * not move, gets another thread, up to max_threads. Real piscina threads running job-worker.ts on
 * jobs that need no store (comments and WAITs send no batch).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Piscina } from 'piscina';
import type { JobSummary } from '../../../protocol/job-task.js';
import { BIG_JOB_BYTES, GROW_AFTER_MS, PiscinaJobPool } from '../../../runtime/batch/job-pool.js';
import { tempDir, waitUntilSeen } from '../../helpers/fixtures.js';

const JOB_WORKER = new URL('../../../runtime/batch/job-worker.js', import.meta.url).href;

/** `cpuLanes`: jobs that may compute at once beside the store (the program: cores - 1). */
function pools(t: ExecutionContext, maxThreads: number, cpuLanes = maxThreads): { piscina: Piscina; pool: PiscinaJobPool } {
  // As the program makes it: an idle thread stays (piscina's default ends it at once).
  const piscina = new Piscina({ filename: JOB_WORKER, minThreads: 1, maxThreads, idleTimeout: 60_000 });
  t.teardown(() => piscina.destroy());
  return { piscina, pool: new PiscinaJobPool(piscina, cpuLanes) };
}

interface Started {
  readonly done: Promise<JobSummary>;
  readonly abort: AbortController;
  readonly outPath: string;
  settled: 'running' | 'done' | 'failed';
}

function start(t: ExecutionContext, pool: PiscinaJobPool, jobPath: string): Started {
  const abort = new AbortController();
  const outPath = jobPath.replace(/\.job$/, '.out');
  const started = pool.start({ jobPath, outPath, compat: 'seed' }, abort.signal);
  // Its store end: these jobs send nothing. Closing it would close the job's end too.
  t.teardown(() => started.port.close());
  const job: Started = { done: started.done, abort, outPath, settled: 'running' };
  job.done.then(
    () => (job.settled = 'done'),
    () => (job.settled = 'failed'),
  );
  // Whatever a test leaves running is ended with it.
  t.teardown(() => abort.abort(new Error('test over')));
  return job;
}

test('small jobs queued behind a busy thread do not each start a thread', async (t) => {
  const dir = tempDir(t);
  const { piscina, pool } = pools(t, 4);
  const jobs: Started[] = [];
  for (let i = 0; i < 6; i++) {
    const path = join(dir, `small${i}.job`);
    await writeFile(path, '# a comment only\n');
    jobs.push(start(t, pool, path));
  }
  // Piscina alone would have started a thread for each queued job, up to 4, by now.
  t.is(piscina.threads.length, 1);
  for (const job of jobs) t.deepEqual(await job.done, { commands: 0, invalid: 0, backups: 0, stopped: false });
});

test('a big job file starts a thread of its own at once, up to max_threads', async (t) => {
  const dir = tempDir(t);
  const { piscina, pool } = pools(t, 2);
  const big = '# padding\n'.repeat(Math.ceil(BIG_JOB_BYTES / 10));
  const jobs: Started[] = [];
  for (let i = 0; i < 3; i++) {
    const path = join(dir, `big${i}.job`);
    await writeFile(path, big);
    jobs.push(start(t, pool, path));
  }
  t.is(piscina.threads.length, 2, 'two big jobs run at once, the third waits: max_threads is 2');
  for (const job of jobs) t.like(await job.done, { commands: 0, stopped: false });
});

test('past the cores, a big job waits while the store is busy, and gets a thread once the store goes quiet', async (t) => {
  const dir = tempDir(t);
  const { piscina, pool } = pools(t, 4, 1);
  // A store that applies commands all the time, until the test says it went quiet.
  let applied = 0;
  let busy = true;
  const ticking = setInterval(() => busy && applied++, 1);
  t.teardown(() => clearInterval(ticking));
  pool.watchStore(() => applied);
  const big = '# padding\n'.repeat(Math.ceil(BIG_JOB_BYTES / 10));
  await writeFile(join(dir, 'long.job'), `${big}WAIT 600000\n`);
  await writeFile(join(dir, 'next.job'), big);
  const long = start(t, pool, join(dir, 'long.job'));
  const next = start(t, pool, join(dir, 'next.job'));
  // Many growth periods pass while the store is busy: the big job stays queued, on one thread.
  await new Promise((resolve) => setTimeout(resolve, 20 * GROW_AFTER_MS));
  t.is(next.settled, 'running');
  t.is(piscina.threads.length, 1, 'no second thread while the store is busy');
  busy = false;
  await waitUntilSeen('the big job to run once the store is quiet', () => ({ ok: next.settled !== 'running', seen: `next ${next.settled}, ${piscina.threads.length} threads` }));
  t.is(next.settled, 'done');
  t.is(long.settled, 'running');
  long.abort.abort(new Error('stopped by the test'));
  await t.throwsAsync(long.done);
});

for (const storeBusy of [false, true]) {
  // A small job costs little CPU: past the cores, and with the store busy, it still gets a thread.
  test(`a small job queued behind a long one gets a thread once the queue stops moving (store ${storeBusy ? 'busy, past the cores' : 'quiet'})`, async (t) => {
    const dir = tempDir(t);
    const { piscina, pool } = pools(t, 2, storeBusy ? 1 : 2);
    if (storeBusy) {
      let applied = 0;
      const ticking = setInterval(() => applied++, 1);
      t.teardown(() => clearInterval(ticking));
      pool.watchStore(() => applied);
    }
    await writeFile(join(dir, 'long.job'), 'WAIT 600000\n');
    await writeFile(join(dir, 'short.job'), '# a comment only\n');
    const long = start(t, pool, join(dir, 'long.job'));
    const short = start(t, pool, join(dir, 'short.job'));
    await waitUntilSeen('the short job to end while the long one waits', () => ({
      ok: short.settled !== 'running',
      seen: `short ${short.settled}, long ${long.settled}, ${piscina.threads.length} threads`,
    }));
    t.is(short.settled, 'done');
    t.is(long.settled, 'running');
    t.is(piscina.threads.length, 2);
    long.abort.abort(new Error('stopped by the test'));
    await t.throwsAsync(long.done);
  });
}

test('aborting a queued job rejects it with the reason and never runs it', async (t) => {
  const dir = tempDir(t);
  const { pool } = pools(t, 1);
  await writeFile(join(dir, 'long.job'), 'WAIT 600000\n');
  await writeFile(join(dir, 'queued.job'), '# a comment only\n');
  const long = start(t, pool, join(dir, 'long.job'));
  const queued = start(t, pool, join(dir, 'queued.job'));
  queued.abort.abort(new Error('not wanted any more'));
  await t.throwsAsync(queued.done, { message: 'not wanted any more' });
  long.abort.abort(new Error('stopped by the test'));
  await t.throwsAsync(long.done);
  // Jobs start in the order they came: had the aborted one stayed queued, it would run first.
  await writeFile(join(dir, 'after.job'), '# a comment only\n');
  await start(t, pool, join(dir, 'after.job')).done;
  t.false(existsSync(queued.outPath), 'the aborted job never ran: it wrote no .out');
});
