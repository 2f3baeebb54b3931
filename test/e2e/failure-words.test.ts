/**
 * Jobs and backups that fail on the file system say why in words ('permission denied'), naming the
 * user's file, not as Node's `EACCES: permission denied, open '<temporary file>'`. The run is made
 * as another user when the test runs as root (root may write anywhere).
 */
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { readBytes, runKvs, tempDir, writeFiles } from '../helpers/batch.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const runAs = asRoot ? { uid: NOBODY, gid: NOBODY } : {};

/** A jobs folder the run can read but not write into (owned by root, or chmod 555). */
function readOnlyFolder(t: ExecutionContext, files: Record<string, string>): string {
  const dir = tempDir(t);
  writeFiles(dir, files);
  chmodSync(dir, 0o555);
  t.teardown(() => chmodSync(dir, 0o755));
  return dir;
}

test('a job whose .out cannot be created fails with the .out named and the reason in words', async (t) => {
  const dir = readOnlyFolder(t, { 'a.job': 'WRITE [(a,1)]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--quiet'], runAs);
  t.is(result.code, 1);
  t.is(result.stderr, `kvs: job ${dir}/a.job failed: cannot write ${dir}/a.out: permission denied\n`);
});

test('a job file that cannot be read fails saying so in words', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\n' });
  chmodSync(join(dir, 'a.job'), 0);
  chmodSync(dir, 0o777);
  const result = await runKvs(t, [dir, '1', '1', '--quiet'], runAs);
  t.is(result.code, 1);
  t.is(result.stderr, `kvs: job ${dir}/a.job failed: cannot read it: permission denied\n`);
});

test('a BACKUP that cannot be written names its .bck and the reason, not its temporary file', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(a,1)]\nBACKUP\nREAD [a]\n' });
  // The .out exists and is the run's to write; the folder takes no new file.
  writeFileSync(join(dir, 'a.out'), '');
  if (asRoot) chownSync(join(dir, 'a.out'), NOBODY, NOBODY);
  chmodSync(dir, 0o555);
  t.teardown(() => chmodSync(dir, 0o755));
  const result = await runKvs(t, [dir, '1', '1', '--quiet'], runAs);
  t.is(result.code, 1);
  t.is(result.stderr, 'kvs: backup a-1.bck (backup 1 of job a) failed: permission denied\n');
  t.is(readBytes(join(dir, 'a.out')), '[(a,1)]\n');
});
