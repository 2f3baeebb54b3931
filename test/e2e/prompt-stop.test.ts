/**
 * A prompt stop, always: a signal stops a job at its next command boundary even in a run of big
 * SHOWs; an `.out` that is a FIFO is refused at once (a blocking open would hold a worker thread
 * past any signal); and a second signal exits at once, backups under way included.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readBytes, runKvs, startKvs, tempDir, waitFor, writeFiles } from '../helpers/batch.js';
import { startServer, waitUntil, writeJob } from '../helpers/processes.js';
import { pidOfTemp } from '../../runtime/backup/stale-temps.js';
import { backupHooks } from '../helpers/backup-hooks.js';

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('an .out that is a FIFO is refused as that job\'s failure and the other jobs complete (batch mode)', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\nSHOW\n', 'b.job': 'WRITE [(b,2)]\nREAD [b]\n' });
  execFileSync('mkfifo', [join(dir, 'a.out')]);
  const result = await runKvs(t, [dir, '1', '2', '--quiet'], { deadlineMs: 30_000 });
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /a\.out is not a regular file/);
  t.is(readBytes(join(dir, 'b.out')), '[(b,2)]\n');
  t.true(statSync(join(dir, 'a.out')).isFIFO(), 'the FIFO is left as it was');
});

test('an .out that is a FIFO is refused in server mode, and SIGTERM then ends the server', async (t) => {
  const server = await startServer(t);
  execFileSync('mkfifo', [join(server.dir, 'x.out')]);
  await writeJob(server.dir, 'x.job', 'WRITE [(x,1)]\nSHOW\n');
  await waitUntil(`x.job to be refused (stderr: ${server.stderr})`, () => /x\.out is not a regular file/.test(server.stderr), 20_000);
  server.child.kill('SIGTERM');
  t.is(await server.waitForExit(20_000), 0, server.stderr);
  t.false(existsSync(server.fifo), 'the registration FIFO is removed');
});

test('SIGTERM during a run of big SHOWs stops the job at a SHOW boundary, not after every SHOW', async (t) => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `k${String(i).padStart(6, '0')}`);
  const lines: string[] = [];
  for (let i = 0; i < keys.length; i += 100) lines.push(`WRITE [${keys.slice(i, i + 100).map((k) => `(${k},${k})`).join('')}]`);
  const shows = 300;
  for (let i = 0; i < shows; i++) lines.push('SHOW');
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': `${lines.join('\n')}\n` });
  const block = keys.map((k) => `(${k},${k})\n`).join('');
  const running = startKvs(t, [dir, '1', '1', '--quiet'], { deadlineMs: 120_000 });
  await waitFor(() => (existsSync(join(dir, 'a.out')) && statSync(join(dir, 'a.out')).size > 0 ? true : undefined), 'the first SHOW in a.out', 60_000);
  running.child.kill('SIGTERM');
  const result = await running.result;
  t.is(result.code, 143, result.stderr);
  const text = readFileSync(join(dir, 'a.out'), 'latin1');
  const written = text.length / block.length;
  t.true(Number.isInteger(written) && text === block.repeat(written), `a.out is whole SHOWs (${text.length} bytes, a SHOW is ${block.length})`);
  t.true(written < shows, `the job stopped before its last SHOW (${written} of ${shows} written)`);
});

test('a second signal exits at once, ending the backups under way', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\nBACKUP\nREAD [a]\n' });
  // The backup holds its temporary file for a minute: the first signal would wait for it.
  const running = startKvs(t, [dir, '1', '1', '--quiet'], { env: backupHooks({ holdMs: 60_000 }), deadlineMs: 30_000 });
  const childPid = await waitFor(() => readdirSync(dir).map(pidOfTemp).find((pid) => pid !== undefined), 'the backup\'s temporary file');
  t.teardown(() => {
    if (processExists(childPid)) process.kill(childPid, 'SIGKILL');
  });
  let stderr = '';
  running.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  running.child.kill('SIGINT');
  await waitFor(() => (stderr.includes('stopping') ? true : undefined), `the first signal to be taken (stderr: ${stderr})`);
  running.child.kill('SIGINT');
  const result = await running.result;
  t.true(result.signal === 'SIGINT' || result.code === 130, `exit: code ${result.code}, signal ${result.signal}; ${result.stderr}`);
  t.regex(result.stderr, /interrupted twice/);
  await waitUntil(`backup process ${childPid} to be gone`, () => !processExists(childPid), 10_000);
  t.pass();
});
