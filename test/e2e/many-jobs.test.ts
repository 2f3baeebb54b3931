/**
 * Many job files: job actors are spawned as pool slots free up (a bounded window), and a finished
 * one is stopped, so the supervisor's children number the window, not the job files. The time
 * and memory of 10,000 one-line jobs are measured in bench/jobs-bench.ts.
 */
import test from 'ava';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { createActor, toPromise } from 'xstate';
import { MemoryStore } from '../../runtime/store/memory-store.js';
import { PiscinaJobPool } from '../../runtime/batch/job-pool.js';
import { folderSupervisorMachine } from '../helpers/folder-supervisor.js';
import { readBytes, tempDir, writeFiles } from '../helpers/batch.js';

const JOB_WORKER = new URL('../../runtime/batch/job-worker.js', import.meta.url).href;

test('200 job files run with at most a window of job actors alive at once, each with its .out', async (t) => {
  const dir = tempDir(t);
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) files[`j${String(i).padStart(3, '0')}.job`] = `WRITE [(k${i},${i})]\nREAD [k${i}]\n`;
  writeFiles(dir, files);
  const pool = new Piscina({ filename: JOB_WORKER, maxThreads: 2 });
  t.teardown(() => pool.destroy());
  const supervisor = createActor(folderSupervisorMachine, {
    input: {
      jobsDir: dir,
      pool: new PiscinaJobPool(pool),
      store: new MemoryStore(),
      compat: 'seed',
      maxBackups: 1,
      backupWriter: { write: () => Promise.reject(new Error('no backups here')) },
      serve: false,
      report: (line) => t.log(line),
      window: 4,
    },
  });
  let most = 0;
  supervisor.subscribe((snapshot) => {
    const jobs = Object.keys(snapshot.children).filter((id) => id.startsWith('job-')).length;
    most = Math.max(most, jobs);
  });
  supervisor.start();
  const output = await toPromise(supervisor);
  t.is(output.results.length, 200);
  t.true(output.results.every((result) => result.error === undefined));
  t.true(most <= 4, `at most 4 job actors at once (saw ${most})`);
  for (let i = 0; i < 200; i++) t.is(readBytes(join(dir, `j${String(i).padStart(3, '0')}.out`)), `[(k${i},${i})]\n`);
});
