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
import { Proc, waitUntil, waitUntilSeen } from '../helpers/processes.js';
import { hasReader } from '../../runtime/os/fifo.js';
import { backupHooks } from '../helpers/backup-hooks.js';

/** Descriptors for the program: its start fits; 40 backup processes (2 pipes each) cannot. */
const NOFILE = 48;
const JOBS = 40;
/**
 * Each backup child holds its backup at a gate (a file the test makes) until the run has run out
 * of descriptors: every backup is then in progress at once, however slowly a busy machine runs
 * the jobs (a hold of 1 s, then of 5 s, still let a loaded run get its backups one after another
 * and never run out).
 */
const GATE = 'gate';
const OUT_OF_DESCRIPTORS = /failed: cannot run a backup process: spawn .* EMFILE/;

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
  // The backups held at the gate: more backup processes than descriptors.
  const gate = join(tempDir(t), GATE);
  const proc = new Proc(
    spawn('prlimit', [`--nofile=${NOFILE}`, process.execPath, MAIN, dir, String(JOBS), '1', '--quiet'], {
      env: { ...process.env, ...backupHooks({ gate }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  t.teardown(() => proc.stop());
  await waitUntilSeen('a backup to fail for want of descriptors', () => ({ ok: OUT_OF_DESCRIPTORS.test(proc.stderr), seen: `stderr: ${proc.stderr}` }), 90_000);
  writeFileSync(gate, '');
  const code = await proc.waitForExit(90_000);
  const result = { code, stderr: proc.stderr };
  t.is(result.code, 1, result.stderr);
  t.notRegex(result.stderr, /Unhandled|TypeError|\n\s+at /);
  t.regex(result.stderr, OUT_OF_DESCRIPTORS);
  checkOutputs(t, dir, result.stderr);
});

test('out of descriptors, a server reports the backups that cannot get a process and goes on', async (t) => {
  const dir = tempDir(t);
  const jobs = join(dir, 'jobs');
  const fifo = join(dir, 'register_fifo');
  spawnSync('mkdir', [jobs]);
  writeFiles(jobs, jobFiles());
  const gate = join(dir, GATE);
  const proc = new Proc(
    spawn('prlimit', [`--nofile=${NOFILE}`, process.execPath, MAIN, jobs, '1', String(JOBS), fifo], {
      env: { ...process.env, ...backupHooks({ gate }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  t.teardown(() => proc.stop());
  await waitUntilSeen('a backup to fail for want of descriptors', () => {
    if (!proc.alive) throw new Error(`the server exited: ${proc.stderr}`);
    return { ok: OUT_OF_DESCRIPTORS.test(proc.stderr), seen: `stderr: ${proc.stderr}` };
  }, 90_000);
  writeFileSync(gate, '');
  await waitUntil(`every job to be done or failed (stderr: ${proc.stderr})`, () => {
    if (!proc.alive) throw new Error(`the server exited: ${proc.stderr}`);
    return (proc.stderr.match(/\.job (done|failed)/g) ?? []).length >= JOBS;
  }, 90_000);
  await waitUntil(`the backups to end (stderr: ${proc.stderr})`, () => {
    const names = readdirSync(jobs);
    return names.every((name) => !name.endsWith('.tmp'));
  }, 30_000);
  t.regex(proc.stderr, OUT_OF_DESCRIPTORS);
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
