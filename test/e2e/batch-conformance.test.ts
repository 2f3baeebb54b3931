/**
 * The conformance fixtures (test/fixtures/conformance: the seed's example and the course's public
 * cases). The expected files were produced with each job alone on an empty store (their SHOWs
 * would conflict on a shared one), so each case runs in a folder of its own, with its own args.
 */
import test from 'ava';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readBytes, runKvs, tempDir } from '../helpers/batch.js';
import { conformanceCases } from '../../runtime/check/public-cases.js';

const cases = conformanceCases('.expected');

test('the conformance fixtures hold the seed example and the six course cases', (t) => {
  t.deepEqual(
    cases.map((c) => c.name),
    ['course-backup-job-9', 'course-jobs-1', 'course-jobs-3', 'course-jobs-4', 'course-jobs-7', 'course-jobs-8', 'seed-example'],
  );
});

for (const { name, folder, jobs, args, outputs } of cases) {
  test(`conformance case ${name} (${jobs.join(', ')} with ${args.join(' ')}) writes exactly its expected files`, async (t) => {
    const dir = tempDir(t);
    for (const job of jobs) copyFileSync(join(folder, job), join(dir, job));
    const result = await runKvs(t, [dir, ...args]);
    t.is(result.code, 0, result.stderr);
    t.deepEqual(listDir(dir), [...jobs, ...outputs.keys()].sort(), 'the job writes exactly the expected files');
    for (const [output, fixture] of outputs) t.is(readBytes(join(dir, output)), readBytes(fixture), output);
  });
}
