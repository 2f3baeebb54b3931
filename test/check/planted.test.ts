/**
 * The checker against implementations with one planted difference each (planted-kvs.ts): it
 * finds the difference, shrinks it to the expected smallest job and names its class; against
 * this project itself it finds nothing. Each test names the seed whose six generated jobs hold
 * the trigger: were the generator changed so that they no longer do, the test says that no run
 * differed, with the seed, rather than passing. Serial: each runs two programs at a time, and
 * a loaded machine must not make a run look like a hang.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PROJECT_ROOT, tempDir } from '../helpers/fixtures.js';
import { runCommand } from '../helpers/program-run.js';

const CHECK = join(PROJECT_ROOT, 'runtime', 'check.js');
const PLANTED = join(PROJECT_ROOT, 'dist', 'test', 'check', 'planted-kvs.js');
/** Their deadline per run when nothing should hang: only a bound on a loaded machine. */
const NO_HANG_MS = 60_000;

/** The planted implementation as one executable file, as a student's program would be. */
function planted(t: ExecutionContext, variant: string, env: Record<string, string>): string {
  const path = join(tempDir(t, 'kvs-planted-'), variant);
  const exports = Object.entries(env).map(([name, value]) => `export ${name}='${value}'\n`).join('');
  writeFileSync(path, `#!/bin/sh\n${exports}exec "${process.execPath}" "${PLANTED}" ${variant} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

interface Finding {
  class: string;
  job: string;
  kind: string;
  theirs: string;
  files: Array<{ name: string; theirs: string | null; ours: string | null }>;
}

async function check(t: ExecutionContext, variant: string, seed: number, timeoutMs = NO_HANG_MS, env: Record<string, string> = {}) {
  const args = ['batch', planted(t, variant, env), '--runs', '6', '--seed', String(seed), '--lines', '6', '--shrink', '1', '--parallel', '1', '--timeout-ms', String(timeoutMs), '--json'];
  const run = await runCommand(process.execPath, [CHECK, ...args], { deadlineMs: 600_000 });
  t.false(run.killed, 'the checker ended by itself');
  const report = JSON.parse(run.stdout) as { differing: number[]; findings: Finding[] };
  return { code: run.code, stderr: run.stderr, report };
}

async function finding(t: ExecutionContext, variant: string, seed: number, timeoutMs?: number, env?: Record<string, string>): Promise<Finding> {
  const { code, report, stderr } = await check(t, variant, seed, timeoutMs, env);
  t.is(code, 1, stderr);
  t.true(report.findings.length > 0, `seed ${seed} no longer generates a job that shows the planted ${variant}`);
  return report.findings[0]!;
}

test.serial('this project checked against itself differs nowhere', async (t) => {
  const { code, report, stderr } = await check(t, 'same', 1);
  t.deepEqual(report.differing, []);
  t.is(code, 0, stderr);
});

test.serial('SHOW lines in reverse are found as show-order, down to a WRITE of two keys and a SHOW or BACKUP', async (t) => {
  const f = await finding(t, 'reverse-show', 1);
  t.is(f.class, 'show-order');
  t.regex(f.job, /^WRITE \[\([a-c],[a-c]\)\([a-c],[a-c]\)\]\n(SHOW|BACKUP)\n$/);
});

test.serial('SHOW lines in case-folded order are found as show-case-order, with keys of both cases', async (t) => {
  const f = await finding(t, 'casefold-show', 3);
  t.is(f.class, 'show-case-order');
  t.regex(f.job, /^(WRITE \[(\(\S+,\S+\)){2}\]\n|WRITE \[\(\S+,\S+\)\]\nWRITE \[\(\S+,\S+\)\]\n)(SHOW|BACKUP)\n$/);
  t.regex(f.job, /[A-Z][^\n]*\n/, 'an upper-case key');
});

test.serial('a duplicate key keeping its first value is found as duplicate-key, down to one WRITE and what shows it', async (t) => {
  const f = await finding(t, 'first-duplicate', 2);
  t.is(f.class, 'duplicate-key');
  t.regex(f.job, /^WRITE \[\(([a-c]),[a-c]\)\(\1,[a-c]\)\]\n(SHOW|BACKUP|READ \[\1\])\n$/);
});

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

test.serial('a hang on a key starting with _ is a finding, its process group killed, down to one command', async (t) => {
  const pids = join(tempDir(t, 'kvs-planted-pids-'), 'pids');
  const f = await finding(t, 'hang-underscore', 1, 8_000, { PLANTED_PID_FILE: pids });
  t.is(f.class, 'odd-first-byte-hang');
  t.regex(f.job, /^(WRITE \[\(_,a\)\]|READ \[_\]|DELETE \[_\])\n$/);
  t.true(existsSync(pids), 'the planted program started its child');
  for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
    // Gone, or a zombie no one has reaped yet: not running either way.
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    t.true(stat === '' || / Z /.test(stat) || !stat.includes('(sleep)'), `the hanging program's child ${pid} was killed: ${stat}`);
  }
});
