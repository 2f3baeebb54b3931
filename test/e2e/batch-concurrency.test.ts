/**
 * Many job files on shared keys, run by the real program on real workers, checked against the
 * model of test/helpers/serial-check.ts: no torn command, and every READ, SHOW, DELETE report and
 * BACKUP fits one serial order of all the commands that keeps each job's own order.
 */
import test from 'ava';
import { modelCheckRun } from '../helpers/model-run.js';
import type { WorkloadShape } from '../helpers/serial-check.js';

const SHAPE: WorkloadShape = { jobs: 8, commands: 1500, groups: 5, keysPerGroup: 3, waitEvery: 40, backupEvery: 300 };

/** [seed, max_threads]: fewer threads than jobs, and more threads than cores. */
const RUNS: ReadonlyArray<readonly [number, number]> = [
  [20241, 4],
  [20242, 8],
];

for (const [seed, threads] of RUNS) {
  test(`jobs on shared keys fit one serial order of their commands (seed ${seed}, ${threads} threads)`, (t) =>
    modelCheckRun(t, seed, SHAPE, ['2', String(threads)]));
}
