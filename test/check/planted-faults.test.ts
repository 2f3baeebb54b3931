/**
 * The checker finds a planted swallowed line, crash and hang, shrinks each to the expected smallest
 * job and names its class; a hang's whole process group is killed. Serial: each test runs two
 * programs at a time, and a loaded machine must not make a run look like a hang.
 */
import test from 'ava';
import { finding } from './planted.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/fixtures.js';

test.serial('a bad line swallowing the next is found as swallowed-line, down to a bad line and one that writes', async (t) => {
  const f = await finding(t, 'swallow', 1);
  t.is(f.class, 'swallowed-line');
  const lines = f.job.split('\n').slice(0, -1);
  t.true(lines.length >= 2 && lines.length <= 3, f.job);
});

test.serial('a crash on an empty list is found as empty-list-crash with its signal, down to that one line', async (t) => {
  const f = await finding(t, 'crash-empty-list', 4);
  t.is(f.class, 'empty-list-crash');
  t.is(f.kind, 'crash');
  t.is(f.theirs, 'killed by SIGSEGV');
  t.regex(f.job, /^(READ|DELETE|WRITE) \[\]\n$/);
  t.deepEqual(f.files.map((file) => [file.name, file.theirs]), [['test.out', '[']]);
});

test.serial('a hang on a key starting with _ is a finding, its process group killed, down to one command', async (t) => {
  const pids = join(tempDir(t, 'kvs-planted-pids-'), 'pids');
  const f = await finding(t, 'hang-underscore', 1, 8_000, { PLANTED_PID_FILE: pids });
  t.is(f.class, 'odd-first-byte-hang');
  t.regex(f.job, /^(WRITE \[\(_,a\)\]|READ \[_\]|DELETE \[_\])\n$/);
  t.true(existsSync(pids), 'the planted program started its child');
  for (const pid of readFileSync(pids, 'utf8').trim().split('\n').map(Number)) {
    // Gone, or a zombie no one has reaped yet: not running either way.
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    t.true(stat === '' || / Z /.test(stat) || !stat.includes('(sleep)'), `the hanging program's child ${pid} was killed: ${stat}`);
  }
});
