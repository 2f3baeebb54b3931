/**
 * A checkout whose path holds a space and a non-ASCII letter (`/home/Zé Silva/ist-kvs`): the
 * program, its job threads and its backup children all start from there. A file URL spells such
 * a path with %-escapes (`Z%C3%A9%20Silva`), which is no path: the backup child was started by
 * its URL's pathname and could not be found, so every BACKUP failed.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { PROJECT_ROOT, runKvs, tempDir } from '../helpers/batch.js';

test('from a checkout at a path with a space and a non-ASCII letter, jobs run and BACKUPs are written', async (t) => {
  const checkout = join(tempDir(t), 'Zé Silva', 'ist kvs');
  mkdirSync(checkout, { recursive: true });
  for (const part of ['runtime', 'dist', 'package.json']) cpSync(join(PROJECT_ROOT, part), join(checkout, part), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(checkout, 'node_modules'));
  const jobs = join(checkout, 'jobs');
  mkdirSync(jobs);
  writeFileSync(join(jobs, 'x.job'), 'WRITE [(a,1)]\nBACKUP\nREAD [a]\n');
  const result = await runKvs(t, [jobs, '1', '1'], { cwd: checkout, main: join(checkout, 'runtime/main.js') });
  t.is(result.code, 0, result.stderr);
  t.is(readFileSync(join(jobs, 'x-1.bck'), 'latin1'), '(a,1)\n');
  t.is(readFileSync(join(jobs, 'x.out'), 'latin1'), '[(a,1)]\n');
});
