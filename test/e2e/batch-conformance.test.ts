/**
 * The course's public cases (shared/conformance/ist-public) with --compat=course. The expected
 * files were produced with each job alone on an empty store (their SHOWs would conflict on a
 * shared one), so each job runs in a folder of its own, with the course's arguments.
 */
import test from 'ava';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readBytes, runKvs, sharedDir, tempDir } from '../helpers/batch.js';

interface Case {
  readonly folder: string;
  readonly job: string;
  /** The course's `<max_backups> <max_threads>` for this folder. */
  readonly args: readonly [string, string];
}

function cases(): Case[] {
  const root = join(sharedDir(), 'conformance', 'ist-public');
  const found: Case[] = [];
  for (const [folder, args] of [['jobs', ['3', '5']], ['backup-job', ['1', '2']]] as const) {
    for (const name of readdirSync(join(root, folder)).sort()) {
      if (name.endsWith('.job')) found.push({ folder: join(root, folder), job: name, args });
    }
  }
  if (found.length === 0) throw new Error(`no .job files under ${root}`);
  return found;
}

let found: Case[] = [];
try {
  found = cases();
} catch (error) {
  test('the course conformance cases are present beside the checkout', (t) => {
    t.fail(String(error));
  });
}

for (const { folder, job, args } of found) {
  const base = job.replace(/\.job$/, '');
  // Every `<base>.out.expected` and `<base>-<n>.bck.expected` names an output file this job must produce.
  const expected = readdirSync(folder)
    .filter((name) => name.endsWith('.expected') && (name.startsWith(`${base}.`) || name.startsWith(`${base}-`)))
    .map((name) => name.slice(0, -'.expected'.length));

  test(`course case ${folder.split('/').pop()}/${job} matches its expected files with --compat=course`, async (t) => {
    t.true(expected.includes(`${base}.out`), `${base}.out.expected is missing`);
    const dir = tempDir(t);
    copyFileSync(join(folder, job), join(dir, job));
    const result = await runKvs(t, [dir, ...args, '--compat=course']);
    t.is(result.code, 0, result.stderr);
    t.deepEqual(listDir(dir), [job, ...expected].sort(), 'the job writes exactly the expected files');
    for (const name of expected) t.is(readBytes(join(dir, name)), readBytes(join(folder, `${name}.expected`)), name);
  });
}
