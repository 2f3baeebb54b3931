/**
 * A backup's temporary file is created exclusively and never through a link: each name found taken
 * (a planted symbolic link, a FIFO, anyone's file) is left as it was and another name is tried.
 * Real files in a temporary folder.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, lstatSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_TEMP_ATTEMPTS, createTemp, pidOfTemp, tempNames } from '../../../runtime/backup/stale-temps.js';
import { tempDir } from '../../helpers/fixtures.js';

test('a taken name is never followed or reused: the next name is created, and what was there is untouched', (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  const victim = join(outside, 'victim.txt');
  writeFileSync(victim, 'not a backup\n');
  symlinkSync(victim, join(dir, 'link.tmp'));
  symlinkSync(join(outside, 'not-there-yet'), join(dir, 'dangling.tmp'));
  t.is(spawnSync('mkfifo', [join(dir, 'fifo.tmp')]).status, 0);
  writeFileSync(join(dir, 'file.tmp'), 'someone else\'s\n');

  const temp = createTemp(dir, ['link.tmp', 'dangling.tmp', 'fifo.tmp', 'file.tmp', 'fresh.tmp']);
  writeSync(temp.fd, 'backup\n');
  closeSync(temp.fd);
  t.is(temp.path, join(dir, 'fresh.tmp'));
  t.is(readFileSync(temp.path, 'latin1'), 'backup\n');
  t.is(readFileSync(victim, 'latin1'), 'not a backup\n');
  t.true(lstatSync(join(dir, 'link.tmp')).isSymbolicLink());
  t.true(lstatSync(join(dir, 'dangling.tmp')).isSymbolicLink());
  t.throws(() => lstatSync(join(outside, 'not-there-yet')), { code: 'ENOENT' }, 'a dangling link is not created through');
  t.true(lstatSync(join(dir, 'fifo.tmp')).isFIFO());
  t.is(readFileSync(join(dir, 'file.tmp'), 'latin1'), 'someone else\'s\n');
});

test('when every name tried is taken, the backup fails in words after a bounded number of tries', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'taken.tmp'), '');
  const tried: string[] = [];
  const names = function* () {
    for (;;) {
      tried.push('taken.tmp');
      yield 'taken.tmp';
    }
  };
  t.throws(() => createTemp(dir, names()), { message: `no free temporary name in ${dir} after ${MAX_TEMP_ATTEMPTS} tries (each was taken by another file)` });
  t.is(tried.length, MAX_TEMP_ATTEMPTS);
});

test('the temporary names are short, fresh, and carry their pid for the stale-temp cleanup', (t) => {
  const names = tempNames(4_194_304);
  const first = names.next().value as string;
  const second = names.next().value as string;
  t.not(first, second);
  t.true(Buffer.byteLength(first) <= 42, first);
  t.is(pidOfTemp(first), 4_194_304);
  t.is(pidOfTemp('a-1.bck.123.tmp'), undefined);
});
