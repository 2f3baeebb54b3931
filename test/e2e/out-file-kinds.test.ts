/**
 * A job's `.out` is written only when it is a regular file of its own: a symbolic link (which may
 * point anywhere), a folder, or a file with other hard links is refused as that job's failure,
 * left as it was, and the other jobs complete. Real program runs.
 */
import test from 'ava';
import { lstatSync, linkSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readBytes, runKvs, stderrLines, tempDir, writeFiles } from '../helpers/batch.js';

const JOBS = { 'a.job': 'WRITE [(a,1)]\nSHOW\n', 'b.job': 'WRITE [(b,2)]\nREAD [b]\n' };

test('an .out that is a symbolic link is refused, and the file it points at is not touched', async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  writeFiles(dir, JOBS);
  const victim = join(outside, 'victim.txt');
  writeFileSync(victim, 'not a job output\n');
  symlinkSync(victim, join(dir, 'a.out'));
  const result = await runKvs(t, [dir, '1', '2', '--quiet']);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /a\.out is not a regular file \(a symbolic link\): refusing to write through it/);
  t.is(readBytes(victim), 'not a job output\n');
  t.true(lstatSync(join(dir, 'a.out')).isSymbolicLink(), 'the link is left as it was');
  t.is(readlinkSync(join(dir, 'a.out')), victim);
  t.is(readBytes(join(dir, 'b.out')), '[(b,2)]\n');
});

test('an .out that is a folder is refused in the program\'s words, not as a raw EISDIR', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, JOBS);
  mkdirSync(join(dir, 'a.out'));
  const result = await runKvs(t, [dir, '1', '2', '--quiet']);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /a\.out is not a regular file \(a folder\): refusing to write to it/);
  t.notRegex(result.stderr, /EISDIR/);
  t.true(lstatSync(join(dir, 'a.out')).isDirectory());
  t.is(readBytes(join(dir, 'b.out')), '[(b,2)]\n');
});

test('an .out with another hard link is refused, and that other name keeps its content', async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  writeFiles(dir, JOBS);
  const other = join(outside, 'kept.txt');
  writeFileSync(other, 'kept\n');
  linkSync(other, join(dir, 'a.out'));
  const result = await runKvs(t, [dir, '1', '2', '--quiet']);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /a\.out has 1 other hard link\(s\): refusing to overwrite/);
  t.is(readBytes(other), 'kept\n');
  t.is(readBytes(join(dir, 'b.out')), '[(b,2)]\n');
});

test('an .out left by an earlier run (a regular file of its own) is replaced as before', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { ...JOBS, 'a.out': 'an older, longer output that must not survive\n' });
  const result = await runKvs(t, [dir, '1', '2', '--quiet']);
  t.is(result.code, 0, result.stderr);
  t.is(readBytes(join(dir, 'a.out')), '(a,1)\n');
});

test.serial('a full disk while writing an .out is said in words, naming the job and its .out', async (t) => {
  // A real full disk: a 64 KiB tmpfs (the test runs as root, as in CI), removed at teardown.
  const mount = tempDir(t);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { encoding: 'utf8' });
  t.is(mounted.status, 0, `mount a small tmpfs: ${mounted.stderr}`);
  t.teardown(() => void spawnSync('umount', [mount]));
  // About 150 KB of output from a 20 KB job.
  writeFiles(mount, { 'a.job': `WRITE [(k,${'v'.repeat(40)})]\n${'SHOW\n'.repeat(3000)}` });
  const result = await runKvs(t, [mount, '1', '1', '--quiet']);
  t.is(result.code, 1, result.stderr);
  const line = `kvs: job ${join(mount, 'a.job')} failed: cannot write ${join(mount, 'a.out')}: no space left on device`;
  t.deepEqual(stderrLines(result), [line]);
});
