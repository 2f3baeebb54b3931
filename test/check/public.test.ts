import test from 'ava';
import { publicCases } from '../../runtime/check/public-check.js';
import { runCommand } from '../helpers/program-run.js';
import { CHECK, planted } from './planted.js';

test('the public tests are the six course cases, run with the numbers of their args alone', (t) => {
  t.deepEqual(
    publicCases().map((c) => `${c.name} ${c.args.join(' ')}`),
    ['course-backup-job-9', 'course-jobs-1', 'course-jobs-3', 'course-jobs-4', 'course-jobs-7', 'course-jobs-8'].map((name) => `${name} ${name.includes('backup') ? '1 2' : '3 5'} --compat=course`),
  );
});

test('this project in course mode passes every public test', async (t) => {
  const run = await runCommand(process.execPath, [CHECK, 'public', planted(t, 'same'), '--timeout-ms', '60000']);
  t.is(run.code, 0, run.stdout + run.stderr);
  t.regex(run.stdout, /check: 6 public tests: 6 passed, 0 failed\n$/);
});

test('an implementation that reverses SHOW fails the public tests whose SHOW lists two pairs or more', async (t) => {
  const run = await runCommand(process.execPath, [CHECK, 'public', planted(t, 'reverse-show'), '--timeout-ms', '60000', '--json']);
  t.is(run.code, 1, run.stderr);
  const report = JSON.parse(run.stdout) as { passed: number; failed: number; cases: Array<{ name: string; passed: boolean; kind?: string }> };
  t.deepEqual(
    report.cases.filter((c) => !c.passed).map((c) => [c.name, c.kind]),
    // The other cases' SHOWs list one pair at most: reversed, they are the same.
    ['course-backup-job-9', 'course-jobs-1'].map((name) => [name, 'order']),
  );
  t.is(report.passed, 4);
});
