/**
 * The concurrency model check through the real program: a generated workload of jobs on shared
 * keys is run with `args`, and every `.out` and `.bck` must fit one serial order of all the
 * commands (serial-check.ts). Shared by the in-memory and the Redis runs.
 */
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { listDir, readBytes, runKvs, tempDir, writeFiles } from './batch.js';
import { checkRun, generateWorkload, jobText, type WorkloadShape } from './serial-check.js';

export async function modelCheckRun(t: ExecutionContext, seed: number, shape: WorkloadShape, args: readonly string[]): Promise<void> {
  const workload = generateWorkload(seed, shape);
  const dir = tempDir(t);
  writeFiles(dir, Object.fromEntries(workload.jobs.map((job) => [`${job.name}.job`, jobText(workload, job)])));
  const result = await runKvs(t, [dir, ...args]);
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
}
