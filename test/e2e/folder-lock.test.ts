/**
 * One run per jobs folder: a second run (batch or server, any --compat, any path to the folder)
 * is refused with one line naming the first run's pid, exit 1, nothing touched; of two runs
 * started at the same moment exactly one runs; a SIGKILLed run never blocks the next.
 */
import test from 'ava';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readBytes, runKvs, startKvs, tempDir, waitFor, writeFiles } from '../helpers/batch.js';
import { startServer } from '../helpers/processes.js';

const refusal = (dir: string, pid: number) => `kvs: the jobs folder ${dir} is in use by another kvs run (pid ${pid}): one run per folder at a time\n`;

test('a server on a batch run\'s folder, through a link to it, is refused naming the run, nothing touched', async (t) => {
  const dir = tempDir(t);
  // Long enough for the second run to start on a busy machine.
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\nWAIT 15000\nREAD [a]\n' });
  const first = startKvs(t, [dir, '1', '1']);
  await waitFor(() => (listDir(dir).includes('a.out') ? true : undefined), 'the first run to start its job');
  const link = join(tempDir(t), 'same-folder');
  symlinkSync(dir, link);
  const fifo = join(tempDir(t), 'register');
  const second = await startKvs(t, [link, '1', '1', fifo, '--compat=course']).result;
  t.is(second.code, 1, second.stderr);
  t.is(second.stderr, refusal(link, first.child.pid!));
  t.false(existsSync(fifo));
  const done = await first.result;
  t.is(done.code, 0, done.stderr);
  t.is(readBytes(join(dir, 'a.out')), 'Waiting...\n[(a,1)]\n', 'the first run\'s output alone');
  t.deepEqual(listDir(dir), ['a.job', 'a.out']);
});

test('a second server on a folder is refused naming the first, and makes no registration FIFO', async (t) => {
  const server = await startServer(t);
  const fifo = join(tempDir(t), 'second');
  const result = await startKvs(t, [server.dir, '1', '1', fifo]).result;
  t.is(result.code, 1, result.stderr);
  t.is(result.stderr, refusal(server.dir, server.pid!));
  t.deepEqual(listDir(server.dir), []);
  t.true(server.alive, 'the first server runs on');
});

test('a run killed with SIGKILL leaves nothing that blocks the next run', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WAIT 60000\n' });
  const first = startKvs(t, [dir, '1', '1']);
  await waitFor(() => (listDir(dir).includes('a.out') ? true : undefined), 'the first run to start its job');
  first.child.kill('SIGKILL');
  await first.result;
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\nREAD [a]\n' });
  const next = await runKvs(t, [dir, '1', '1']);
  t.is(next.code, 0, next.stderr);
  t.is(readBytes(join(dir, 'a.out')), '[(a,1)]\n');
});

test('of two runs started at the same moment on one folder, exactly one runs, round after round', async (t) => {
  for (let round = 0; round < 6; round++) {
    const dir = tempDir(t);
    writeFiles(dir, { 'a.job': 'WAIT 3000\nWRITE [(a,1)]\nREAD [a]\n' });
    const runs = [startKvs(t, [dir, '1', '1']), startKvs(t, [dir, '1', '1', '--compat=course'])];
    const results = await Promise.all(runs.map((run) => run.result));
    const codes = results.map((r) => r.code).sort();
    t.deepEqual(codes, [0, 1], `round ${round}: ${results.map((r) => r.stderr).join(' | ')}`);
    const loser = results.findIndex((r) => r.code === 1);
    t.is(results[loser]!.stderr, refusal(dir, runs[1 - loser]!.child.pid!), `round ${round}`);
    t.deepEqual(listDir(dir), ['a.job', 'a.out']);
  }
});
