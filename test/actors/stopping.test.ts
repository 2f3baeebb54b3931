/**
 * Stopping an actor stops its work, as xstate's own promise actors abort theirs: a stopped job
 * actor ends its piscina task, a stopped backup coordinator abandons the backups it started.
 * Real workers and real backup children.
 */
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { Piscina } from 'piscina';
import { createActor } from 'xstate';
import { backupCoordinatorMachine, type BackupWriter } from '../../actors/backup-coordinator.js';
import type { JobPool } from '../../actors/job.js';
import { MemorySnapshot, MemoryStore, Store } from '../../runtime/store/memory-store.js';
import type { JobSummary } from '../../protocol/job-task.js';
import { BackupChildren } from '../../runtime/backup/children.js';
import { PiscinaJobPool } from '../../runtime/batch/job-pool.js';
import { folderSupervisorMachine } from '../helpers/folder-supervisor.js';
import { tempDir, waitUntilSeen } from '../helpers/processes.js';

const JOB_WORKER = new URL('../../runtime/batch/job-worker.js', import.meta.url).href;

type Settled = { state: 'running' } | { state: 'done'; summary: JobSummary } | { state: 'failed'; error: unknown };

test('stopping a job actor aborts its piscina task instead of leaving it waiting', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'long.job'), 'WRITE [(k,1)]\nWAIT 600000\n');
  const piscina = new Piscina({ filename: JOB_WORKER, maxThreads: 1 });
  t.teardown(() => piscina.destroy());
  const tasks: Settled[] = [];
  const real = new PiscinaJobPool(piscina);
  const pool: JobPool = {
    threads: real.threads,
    start(task, signal) {
      const started = real.start(task, signal);
      const settled: Settled = { state: 'running' };
      tasks.push(settled);
      started.done.then(
        (summary) => Object.assign(settled, { state: 'done', summary }),
        (error: unknown) => Object.assign(settled, { state: 'failed', error }),
      );
      return started;
    },
  };
  const memory = new MemoryStore();
  const store = memory.store;
  const supervisor = createActor(folderSupervisorMachine, {
    input: {
      jobsDir: dir,
      pool,
      store: memory,
      compat: 'seed',
      maxBackups: 1,
      backupWriter: { write: () => Promise.reject(new Error('no backups here')) },
      serve: true,
      report: (line) => t.log(line),
    },
  });
  t.teardown(() => supervisor.stop());
  supervisor.start();
  // The WRITE is applied when the job reaches its WAIT: the worker is now sleeping.
  await waitUntilSeen('the job to reach its WAIT', () => ({ ok: store.has('k'), seen: `${tasks.length} task(s) started` }));
  supervisor.stop();
  await waitUntilSeen('the stopped job actor\'s task to end', () => ({ ok: tasks[0]?.state !== 'running', seen: tasks[0]?.state ?? 'no task' }));
  const task = tasks[0]!;
  t.is(task.state, 'failed');
  if (task.state === 'failed') t.is((task.error as Error).name, 'AbortError');
});

test('stopping the backup coordinator aborts the write it started, and only that one', async (t) => {
  const store = new Store();
  const signals: AbortSignal[] = [];
  let finishFirst: (() => void) | null = null;
  const writer: BackupWriter = {
    write: (_target, snapshot, signal) => {
      signals.push(signal);
      return new Promise((resolve) => {
        const finish = () => {
          void snapshot.release().then(() => resolve({ ok: true, pairs: 0 }));
        };
        if (signals.length === 1) finishFirst = finish;
        signal.addEventListener('abort', finish, { once: true });
      });
    },
  };
  const actor = createActor(backupCoordinatorMachine, { input: { max: 2, compat: 'seed', writer, report: () => undefined } });
  actor.start();
  const request = (n: number) => ({ job: 'a', n, path: `/jobs/a-${n}.bck`, begin: async () => new MemorySnapshot(store.snapshot()) });
  actor.send({ type: 'backup.request', request: request(1) });
  actor.send({ type: 'backup.request', request: request(2) });
  await waitUntilSeen('both backups to start writing', () => ({ ok: signals.length === 2, seen: `${signals.length} write(s) started` }));
  finishFirst!();
  await waitUntilSeen('the first backup to be reported finished', () => ({ ok: actor.getSnapshot().context.completed === 1, seen: `${actor.getSnapshot().context.completed} completed` }));
  actor.stop();
  t.false(signals[0]!.aborted, 'a finished write is not aborted');
  t.true(signals[1]!.aborted, 'the write under way is aborted');
  t.is(store.openSnapshots, 0);
});

test('an abandoned backup releases its snapshot, writes no file, and its child writes the next one', async (t) => {
  const dir = await tempDir(t);
  const store = new Store();
  for (let i = 0; i < 5000; i++) store.set(`k${String(i).padStart(4, '0')}`, `v${i}`);
  const children = new BackupChildren(1);
  t.teardown(() => children.killAll());
  const abort = new AbortController();
  const abandoned = children.write({ path: join(dir, 'a-1.bck'), compat: 'seed' }, new MemorySnapshot(store.snapshot()), abort.signal);
  abort.abort(new Error('stopped'));
  const outcome = await abandoned;
  t.false(outcome.ok);
  if (!outcome.ok) t.regex(outcome.reason, /^cancelled: stopped/);
  t.is(store.openSnapshots, 0);
  const next = await children.write({ path: join(dir, 'a-2.bck'), compat: 'seed' }, new MemorySnapshot(store.snapshot()));
  t.deepEqual(next, { ok: true, pairs: 5000 });
  t.deepEqual(readdirSync(dir), ['a-2.bck']);
  children.close();
});
