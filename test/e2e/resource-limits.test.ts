/**
 * Every failure is local: out of file descriptors (`prlimit --nofile`), a backup that cannot get
 * a process fails and is reported, and the run goes on, in batch and server mode; temporary
 * backup files left by a killed run are removed by the next one (only ours, only of dead processes).
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, readBytes, runKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { Proc, waitUntil } from '../helpers/processes.js';
import { hasReader } from '../../runtime/os/fifo.js';
import { backupHooks } from '../helpers/backup-hooks.js';

/** Descriptors for the program: its start fits; 40 backup processes (2 pipes each) cannot. */
const NOFILE = 48;
const JOBS = 40;
/**
 * How long each backup child holds its backup: long enough that all 40 jobs reach their BACKUP while
 * the first backups are still in progress, even on a machine busy with other work (at 1 s, a run
 * beside seven busy processes got its backups one after another and never ran out of descriptors).
 */
const HOLD_MS = 5000;

function jobFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < JOBS; i++) files[`j${String(i).padStart(2, '0')}.job`] = `WRITE [(k${i},${i})]\nBACKUP\nREAD [k${i}]\n`;
  return files;
}

/** Each job's .out is right, or the job was reported failed; a backup is whole or reported failed. */
function checkOutputs(t: import('ava').ExecutionContext, dir: string, stderr: string): void {
  for (let i = 0; i < JOBS; i++) {
    const name = `j${String(i).padStart(2, '0')}`;
    const jobFailed = stderr.includes(`job ${join(dir, `${name}.job`)} failed`);
    if (!jobFailed) t.is(readBytes(join(dir, `${name}.out`)), `[(k${i},${i})]\n`, name);
    const bck = readBytes(join(dir, `${name}-1.bck`));
    // A job that failed (it could not open its files) may never have reached its BACKUP.
    if (bck === null && !jobFailed) t.regex(stderr, new RegExp(`backup ${name}-1\\.bck .*failed`));
    else if (bck !== null) t.regex(bck, new RegExp(`\\(k${i},${i}\\)\\n`));
  }
  t.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), []);
}

test('out of descriptors, backups that cannot get a process fail and are reported; the run completes (batch mode)', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, jobFiles());
  // All 40 backups in progress at once, each held HOLD_MS: more backup processes than descriptors.
  const proc = new Proc(
    spawn('prlimit', [`--nofile=${NOFILE}`, process.execPath, MAIN, dir, String(JOBS), '1', '--quiet'], {
      env: { ...process.env, ...backupHooks({ holdMs: HOLD_MS }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  t.teardown(() => proc.stop());
  const code = await proc.waitForExit(90_000);
  const result = { code, stderr: proc.stderr };
  t.is(result.code, 1, result.stderr);
  t.notRegex(result.stderr, /Unhandled|TypeError|\n\s+at /);
  t.regex(result.stderr, /failed: cannot run a backup process: spawn .* EMFILE/);
  checkOutputs(t, dir, result.stderr);
});

test('out of descriptors, a server reports the backups that cannot get a process and goes on', async (t) => {
  const dir = tempDir(t);
  const jobs = join(dir, 'jobs');
  const fifo = join(dir, 'register_fifo');
  spawnSync('mkdir', [jobs]);
  writeFiles(jobs, jobFiles());
  const proc = new Proc(
    spawn('prlimit', [`--nofile=${NOFILE}`, process.execPath, MAIN, jobs, '1', String(JOBS), fifo], {
      env: { ...process.env, ...backupHooks({ holdMs: HOLD_MS }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  t.teardown(() => proc.stop());
  await waitUntil(`every job to be done or failed (stderr: ${proc.stderr})`, () => {
    if (!proc.alive) throw new Error(`the server exited: ${proc.stderr}`);
    return (proc.stderr.match(/\.job (done|failed)/g) ?? []).length >= JOBS;
  }, 90_000);
  await waitUntil(`the backups to end (stderr: ${proc.stderr})`, () => {
    const names = readdirSync(jobs);
    return names.every((name) => !name.endsWith('.tmp'));
  }, 30_000);
  t.regex(proc.stderr, /failed: cannot run a backup process: spawn .* EMFILE/);
  t.true(proc.alive, proc.stderr);
  t.true(await hasReader(fifo), 'still serving on its registration FIFO');
  proc.child.kill('SIGTERM');
  t.is(await proc.waitForExit(20_000), 0, proc.stderr);
  t.notRegex(proc.stderr, /Unhandled|TypeError|\n\s+at /);
  t.false(existsSync(fifo));
});

test('a run removes temporary backup files of its naming whose process is gone, and nothing else', async (t) => {
  const dir = tempDir(t);
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
  const alive = process.pid;
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\nBACKUP\n' });
  const stale = `.kvs-backup.${gone}.0123456789ab.tmp`;
  const kept = [`.kvs-backup.${alive}.0123456789ab.tmp`, `.kvs-backup.${gone}.0123.tmp`, `kvs-backup.${gone}.0123456789ab.tmp`, `a-9.bck.tmp`, `.kvs-backup.${gone}.0123456789ab.tmp.keep`];
  for (const name of [stale, ...kept]) writeFileSync(join(dir, name), 'partial');
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.code, 0, result.stderr);
  t.false(existsSync(join(dir, stale)));
  for (const name of kept) t.true(existsSync(join(dir, name)), name);
  t.is(readBytes(join(dir, 'a-1.bck')), '(a,1)\n');
});
