/**
 * `--compat=course` as a user meets it: HELP writes the course's text and `WAIT 10 5` waits, where
 * the default style refuses the line. Real program runs.
 */
import test from 'ava';
import { join } from 'node:path';
import { readBytes, runKvs, stderrLines, tempDir, writeFiles } from '../helpers/batch.js';

const JOB = 'WAIT 10 5\nHELP\n';

test('with --compat=course, HELP is the course\'s text and WAIT 10 5 waits 10 ms', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': JOB });
  const result = await runKvs(t, [dir, '1', '1', '--quiet', '--compat=course']);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(stderrLines(result), []);
  t.is(
    readBytes(join(dir, 'a.out')),
    'Waiting...\n' +
      'Available commands:\n' +
      '  WRITE [(key,value),(key2,value2),...]\n' +
      '  READ [key,key2,...]\n' +
      '  DELETE [key,key2,...]\n' +
      '  SHOW\n' +
      '  WAIT <delay_ms>\n' +
      '  BACKUP\n' +
      '  HELP\n',
  );
});

test('by default, WAIT 10 5 is refused with its line, and HELP lists WRITE as it is accepted', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': JOB });
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  // An invalid line is reported and skipped; the job completes.
  t.is(result.code, 0, result.stderr);
  t.deepEqual(stderrLines(result), [`${join(dir, 'a.job')}:1: WAIT needs a delay in milliseconds: WAIT <ms>`]);
  t.regex(readBytes(join(dir, 'a.out')) ?? '', /^Available commands:\n {2}WRITE \[\(key,value\)\(key2,value2\)\.\.\.\]\n/);
});
