import test from 'ava';
import { backupPath, isJobFile, isJobFileName, jobName, outPath } from '../../protocol/job-files.js';

const file = { isFile: () => true };
const notFile = { isFile: () => false };

test('a job is a regular file named <name>.job, not a dotfile and not a bare .job', (t) => {
  t.true(isJobFileName('a.job'));
  t.true(isJobFileName('my job.job'));
  for (const name of ['.job', '.hidden.job', 'a.job.tmp', 'a.jobs', 'a.out', 'a-1.bck', 'job']) t.false(isJobFileName(name), name);
  t.true(isJobFile('a.job', file));
  t.false(isJobFile('a.job', notFile), 'a folder, a symlink or a FIFO named a.job is not a job');
  t.false(isJobFile('.hidden.job', file));
});

test('the files a job writes sit beside it, named after it', (t) => {
  t.is(jobName('jobs/a.job'), 'a');
  t.is(jobName('a.job'), 'a');
  t.is(outPath('jobs/a.job'), 'jobs/a.out');
  t.is(outPath('/x/y/a.b.job'), '/x/y/a.b.out');
  t.is(outPath('a.job'), 'a.out');
  t.is(backupPath('jobs/a.job', 2), 'jobs/a-2.bck');
  t.is(backupPath('/a.job', 1), '/a-1.bck');
});
