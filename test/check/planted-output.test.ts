/**
 * The checker finds a planted difference in what a job writes, shrinks it to the expected smallest
 * job and names its class; against this project itself it finds nothing. Serial: each test runs
 * two programs at a time.
 */
import test from 'ava';
import { finding, check } from './planted.js';

test.serial('this project checked against itself differs nowhere', async (t) => {
  const { code, report, stderr } = await check(t, 'same', 1);
  t.deepEqual(report.differing, []);
  t.is(code, 0, stderr);
});

test.serial('SHOW lines in reverse are found as show-order, down to a WRITE of two keys and a SHOW or BACKUP', async (t) => {
  const f = await finding(t, 'reverse-show', 1);
  t.is(f.class, 'show-order');
  t.regex(f.job, /^WRITE \[\([a-c],[a-c]\)\([a-c],[a-c]\)\]\n(SHOW|BACKUP)\n$/);
});

test.serial('SHOW lines in case-folded order are found as show-case-order, with keys of both cases', async (t) => {
  const f = await finding(t, 'casefold-show', 3);
  t.is(f.class, 'show-case-order');
  t.regex(f.job, /^(WRITE \[(\(\S+,\S+\)){2}\]\n|WRITE \[\(\S+,\S+\)\]\nWRITE \[\(\S+,\S+\)\]\n)(SHOW|BACKUP)\n$/);
  t.regex(f.job, /[A-Z][^\n]*\n/, 'an upper-case key');
});

test.serial('a duplicate key keeping its first value is found as duplicate-key, down to one WRITE and what shows it', async (t) => {
  const f = await finding(t, 'first-duplicate', 2);
  t.is(f.class, 'duplicate-key');
  t.regex(f.job, /^WRITE \[\(([a-c]),[a-c]\)\(\1,[a-c]\)\]\n(SHOW|BACKUP|READ \[\1\])\n$/);
});

