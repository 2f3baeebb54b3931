/**
 * A backup's `.bck` is written as a job's `.out` is: never through a link planted in the jobs
 * folder, never over a FIFO, a device or a file with other hard links, and an existing `.bck`
 * keeps the mode its owner gave it. Its temporary file fits any legal `.bck` name. Real program
 * runs.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readBytes, runKvs, stderrLines, tempDir, writeFiles, type RunResult } from '../helpers/batch.js';
import { backupHooks } from '../helpers/backup-hooks.js';

const JOB = { 'a.job': 'WRITE [(k1,v1)]\nBACKUP\nSHOW\n' };
/** Pids planted ahead of the run: the program's own threads take ids from the same sequence. */
const PLANTED_PIDS = 6000;
const RESERVED_PIDS = 300;

/** What the run said about a-1.bck. */
function refusal(result: RunResult): string {
  return stderrLines(result)
    .filter((line) => line.includes('a-1.bck'))
    .join('\n');
}

test('symbolic links planted at the next pids\' temporary names are not followed, and the backup is written', async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  const trace = join(outside, 'trace');
  writeFiles(dir, JOB);
  const victim = join(outside, 'victim.txt');
  writeFileSync(victim, 'not a backup\n');
  // As a hostile user would: the pids are sequential, so the backup child's is among the next few
  // thousand (past pid_max they start again above the kernel's reserved 300).
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1'));
  const first = spawnSync('true').pid! + 1;
  const planted = new Set<number>();
  for (let i = 0; i < PLANTED_PIDS; i++) planted.add(first + i < pidMax ? first + i : RESERVED_PIDS + first + i - pidMax);
  for (const pid of planted) symlinkSync(victim, join(dir, `a-1.bck.${pid}.tmp`));
  const result = await runKvs(t, [dir, '1', '1', '--quiet'], { env: backupHooks({ trace }) });
  const child = Number(/^start (\d+) /.exec(readFileSync(trace, 'latin1'))?.[1]);
  t.true(planted.has(child), `the backup child (pid ${child}) is one the links were planted for (${PLANTED_PIDS} from ${first}, pid_max ${pidMax})`);
  t.is(result.code, 0, result.stderr);
  t.is(readBytes(victim), 'not a backup\n');
  t.true(lstatSync(join(dir, `a-1.bck.${child}.tmp`)).isSymbolicLink(), 'the planted link is left as it was');
  t.is(readBytes(join(dir, 'a-1.bck')), '(k1,v1)\n');
  t.false(lstatSync(join(dir, 'a-1.bck')).isSymbolicLink());
});

for (const [kind, make] of [
  ['a FIFO', (path: string) => spawnSync('mkfifo', [path])],
  ['a device', (path: string) => spawnSync('mknod', [path, 'c', '1', '3'])],
  ['a symbolic link', (path: string) => symlinkSync('/dev/null', path)],
] as const) {
  test(`a .bck that is ${kind} is refused as an .out is, and left as it was`, async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, JOB);
    const path = join(dir, 'a-1.bck');
    make(path);
    const before = lstatSync(path);
    t.false(before.isFile(), `${kind} was made`);
    const result = await runKvs(t, [dir, '1', '1', '--quiet']);
    t.is(result.code, 1, result.stderr);
    t.regex(refusal(result), new RegExp(`backup 1 of job a\\b.*a-1\\.bck is not a regular file \\(${kind}\\): refusing`));
    const after = lstatSync(path);
    t.is(after.ino, before.ino, 'the same entry is there');
    t.is(after.mode, before.mode);
    t.deepEqual(listDir(dir), ['a-1.bck', 'a.job', 'a.out'], 'no temporary file left');
    t.is(readBytes(join(dir, 'a.out')), '(k1,v1)\n');
  });
}

test('a .bck with another hard link is refused, and that other name keeps its content', async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  writeFiles(dir, JOB);
  const other = join(outside, 'kept.txt');
  writeFileSync(other, 'kept\n');
  linkSync(other, join(dir, 'a-1.bck'));
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.code, 1, result.stderr);
  t.regex(refusal(result), /a-1\.bck has 1 other hard link\(s\): refusing to overwrite/);
  t.is(statSync(join(dir, 'a-1.bck')).ino, statSync(other).ino, 'the link is left as it was');
  t.is(readBytes(other), 'kept\n');
});

test('an existing .bck keeps its owner-chosen mode when a run replaces it', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { ...JOB, 'a-1.bck': 'an older backup\n' });
  chmodSync(join(dir, 'a-1.bck'), 0o600);
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.code, 0, result.stderr);
  t.is(readBytes(join(dir, 'a-1.bck')), '(k1,v1)\n');
  t.is((statSync(join(dir, 'a-1.bck')).mode & 0o777).toString(8), '600');
});

test('a job whose name is as long as a .bck name allows gets its backup (the temporary name is short)', async (t) => {
  const dir = tempDir(t);
  // `.job` 247 bytes, `-1.bck` 249 bytes: legal names.
  const job = 'a'.repeat(243);
  writeFiles(dir, { [`${job}.job`]: JOB['a.job'] });
  const result = await runKvs(t, [dir, '1', '1']);
  t.is(result.code, 0, result.stderr);
  t.notRegex(result.stderr, /\n\s+at |ENAMETOOLONG/);
  t.is(readBytes(join(dir, `${job}-1.bck`)), '(k1,v1)\n');
  t.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), []);
});
