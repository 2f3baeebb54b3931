/**
 * The checker finds a planted swallowed line, crash and hang, shrinks each to the expected smallest
 * job and names its class; a hang's whole process group is killed, by the deadline and by a Ctrl-C
 * of the checker; a slow run is not a hang. Serial: each test runs two
 * programs at a time, and a loaded machine must not make a run look like a hang.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { tempDir, waitUntil } from '../helpers/fixtures.js';
import { runCommand } from '../helpers/program-run.js';
import { CHECK, check, finding, planted } from './planted.js';

test.serial('a bad line swallowing the next is found as swallowed-line, down to a bad line and one that writes', async (t) => {
  const f = await finding(t, 'swallow', 1);
  t.is(f.class, 'swallowed-line');
  const lines = f.job.split('\n').slice(0, -1);
  t.true(lines.length >= 2 && lines.length <= 3, f.job);
});

test.serial('a crash on an empty list is found as empty-list-crash with its signal, down to that one line', async (t) => {
  const f = await finding(t, 'crash-empty-list', 4);
  t.is(f.class, 'empty-list-crash');
  t.is(f.kind, 'crash');
  t.is(f.theirs, 'killed by SIGSEGV');
  t.regex(f.job, /^(READ|DELETE|WRITE) \[\]\n$/);
  t.deepEqual(f.files.map((file) => [file.name, file.theirs]), [['test.out', '[']]);
});

/** Whether a process runs (a zombie no one has reaped yet does not). */
function running(pid: number): boolean {
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return stat !== '' && !/^\d+ \(.*\) Z /.test(stat);
}

test.serial('a hang on a key starting with _ is a finding, its process group killed, down to one command', async (t) => {
  const pids = join(tempDir(t, 'kvs-planted-pids-'), 'pids');
  const f = await finding(t, 'hang-underscore', 1, 2_000, { PLANTED_PID_FILE: pids });
  t.is(f.class, 'odd-first-byte-hang', f.job);
  t.regex(f.job, /^(WRITE \[\(_,a\)\]|READ \[_\]|DELETE \[_\])\n$/);
  t.true(existsSync(pids), 'the planted program started its child');
  for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) t.false(running(pid), `the hanging program's child ${pid} was killed`);
});

test.serial('a run slower than --timeout-ms that ends within a longer deadline and agrees is no finding', async (t) => {
  const { code, report, stderr } = await check(t, 'slow', 1, 2_000, { PLANTED_PAUSE_MS: '2500' }, 2);
  t.deepEqual(report.differing, []);
  t.deepEqual(report.slow, [1, 2]);
  t.is(code, 0, stderr);
});

test.serial('a checker stopped by Ctrl-C kills the hanging program it started and exits 130', async (t) => {
  const pids = join(tempDir(t, 'kvs-planted-pids-'), 'pids');
  const args = ['batch', planted(t, 'hang-underscore', { PLANTED_PID_FILE: pids }), '--runs', '6', '--seed', '1', '--lines', '6', '--timeout-ms', '600000'];
  let checker: ChildProcess | undefined;
  const run = runCommand(process.execPath, [CHECK, ...args], { onSpawn: (child) => (checker = child) });
  await waitUntil('the hanging program started its child', () => existsSync(pids) && readFileSync(pids, 'utf8').endsWith('\n'));
  checker!.kill('SIGINT');
  const result = await run;
  t.is(result.code, 130, result.stderr);
  for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
    await waitUntil(`the hanging program's child ${pid} is gone`, () => !running(pid));
  }
  t.pass();
});
