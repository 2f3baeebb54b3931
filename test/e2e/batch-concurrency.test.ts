/**
 * Many job files on shared keys, run by the real program on real workers, checked against the
 * model of test/helpers/serial-check.ts: no torn command, and every READ, SHOW, DELETE report and
 * BACKUP fits one serial order of all the commands that keeps each job's own order.
 */
import test from 'ava';
import { join } from 'node:path';
import { listDir, readBytes, runKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { checkRun, generateWorkload, jobText, type WorkloadShape } from '../helpers/serial-check.js';

const SHAPE: WorkloadShape = { jobs: 8, commands: 1500, groups: 5, keysPerGroup: 3, waitEvery: 40, backupEvery: 300 };

/** [seed, max_threads]: fewer threads than jobs, and more threads than cores. */
const RUNS: ReadonlyArray<readonly [number, number]> = [
  [20241, 4],
  [20242, 8],
];

for (const [seed, threads] of RUNS) {
  test(`jobs on shared keys fit one serial order of their commands (seed ${seed}, ${threads} threads)`, async (t) => {
    const workload = generateWorkload(seed, SHAPE);
    const dir = tempDir(t);
    writeFiles(dir, Object.fromEntries(workload.jobs.map((job) => [`${job.name}.job`, jobText(workload, job)])));
    const result = await runKvs(t, [dir, '2', String(threads)]);
    t.is(result.code, 0, result.stderr);
    t.is(result.stderr, '');

    const outs = new Map(workload.jobs.map((job) => [job.name, readBytes(join(dir, `${job.name}.out`))]));
    const violations = checkRun(workload, outs, (file) => readBytes(join(dir, file)));
    t.deepEqual(violations.slice(0, 5), [], `${violations.length} violations; replay with seed ${seed}`);

    const backups = workload.jobs.reduce((n, job) => n + job.commands.filter((c) => c.kind === 'backup').length, 0);
    t.is(listDir(dir).filter((name) => name.endsWith('.bck')).length, backups, 'one .bck per BACKUP');
    // Not asserted (it depends on timing), but shows that the jobs did interleave.
    let foreign = 0;
    for (const job of workload.jobs) foreign += [...(outs.get(job.name) ?? '').matchAll(/,(j\d+)\./g)].filter((m) => m[1] !== job.name).length;
    t.log(`${foreign} values observed from other jobs; ${backups} backups`);
  });
}
