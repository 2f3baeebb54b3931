/**
 * The command line and the jobs folder, through the real program: --help, bad arguments (a
 * reason and a line pointing at --help on stderr, exit 2), which entries of the folder are jobs, and a job file
 * that cannot be read.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobsDir, listDir, readBytes, runKvs, stderrLines, tempDir } from '../helpers/batch.js';

test('--help prints the usage on stdout and exits 0', async (t) => {
  for (const flag of ['--help', '-h']) {
    const result = await runKvs(t, [flag]);
    t.is(result.code, 0, flag);
    t.regex(result.stdout, /^Usage:\n {2}node runtime\/main\.js <jobs_dir> <max_backups> <max_threads>/, flag);
    t.is(result.stderr, '', flag);
  }
});

/** Arguments (DIR stands for an existing empty folder, FILE for a regular file), and the reason. */
const BAD_ARGUMENTS: ReadonlyArray<readonly [readonly string[], RegExp]> = [
  [[], /missing <jobs_dir>/],
  [['/nonexistent/kvs-jobs', '2', '2'], /\/nonexistent\/kvs-jobs does not exist/],
  [['FILE', '2', '2'], /is not a folder/],
  [['DIR', '0', '2'], /max_backups must be at least 1/],
  [['DIR', '2', '0'], /max_threads must be at least 1/],
  [['DIR', 'two', '2'], /max_backups must be a whole number, not 'two'/],
  [['DIR', '2', 'x4'], /max_threads must be a whole number, not 'x4'/],
  [['DIR', '2', '1.5'], /max_threads must be a whole number/],
  [['DIR', '2', '-1'], /'-1' is not a count: the counts are whole numbers of at least 1/],
  [['DIR', '--threads', '-3'], /'-3' is not a count/],
  [['DIR', '2'], /give both counts/],
  [['DIR', '2', '2', 'register_fifo', 'extra'], /too many arguments: extra/],
  [['DIR', '2', '2', '--compat=cobol'], /--compat must be one of seed, course, not 'cobol'/],
  [['DIR', '2', '2', '--bogus'], /unknown option '--bogus'/],
  // Two counts and --fifo: batch order or server order? Asked for by name instead of guessed.
  [['DIR', '4', '2', '--fifo', 'register_fifo'], /with --fifo, give the counts as --threads N and --backups N/],
];

for (const [args, reason] of BAD_ARGUMENTS) {
  test(`bad arguments [${args.join(' ')}] give a reason, a pointer to --help and exit 2`, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const jobs = join(dir, 'jobs');
    mkdirSync(jobs);
    const result = await runKvs(t, args.map((arg) => (arg === 'DIR' ? jobs : arg === 'FILE' ? file : arg)));
    t.is(result.code, 2);
    t.is(result.stdout, '');
    const [first, ...rest] = stderrLines(result);
    t.regex(first ?? '', /^kvs: /);
    t.regex(first ?? '', reason);
    t.deepEqual(rest, ["kvs: run 'node runtime/main.js --help' for the usage"], 'one line pointing at --help follows the reason');
    t.deepEqual(listDir(jobs), [], 'nothing written');
  });
}

test('an empty jobs folder says no .job files were found, exits 0 and writes nothing', async (t) => {
  const dir = jobsDir(t, {});
  const result = await runKvs(t, [dir, '1', '1']);
  t.is(result.code, 0);
  t.is(result.stderr, `kvs: no .job files found in ${dir} (only regular files named *.job directly in it are run)\n`);
  t.deepEqual(listDir(dir), []);
});

test('only regular files ending in .job directly in the folder are jobs', async (t) => {
  const dir = jobsDir(t, { 'good.job': 'WRITE [(a,1)]\nREAD [a]\n', 'notes.txt': 'READ [a]\n', 'good.job.bak': 'READ [a]\n', 'UPPER.JOB': 'READ [a]\n' });
  mkdirSync(join(dir, 'x.job'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'inner.job'), 'READ [a]\n');
  // A FIFO: opening it would block until a writer came; it must not even be opened.
  execFileSync('mkfifo', [join(dir, 'y.job')]);
  const result = await runKvs(t, [dir, '1', '2']);
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
  t.deepEqual(listDir(dir), ['UPPER.JOB', 'good.job', 'good.job.bak', 'good.out', 'notes.txt', 'sub', 'x.job', 'y.job']);
  t.deepEqual(listDir(join(dir, 'sub')), ['inner.job']);
  t.deepEqual(listDir(join(dir, 'x.job')), []);
  t.is(readBytes(join(dir, 'good.out')), '[(a,1)]\n');
});

test('a job file that cannot be read is reported by name while the other jobs complete', async (t) => {
  const dir = jobsDir(t, {
    'a.job': 'WRITE [(a,1)]\nWAIT 5\nREAD [a]\n',
    'bad.job': 'WRITE [(bad,1)]\n',
    'z.job': 'WRITE [(z,1)]\nREAD [z]\nBACKUP\n',
  });
  chmodSync(join(dir, 'bad.job'), 0o000);
  // root reads a chmod 000 file anyway: run the program as nobody, in a folder nobody may write.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(dir, 0o777);
  const result = await runKvs(t, [dir, '1', '2'], asRoot ? { uid: 65534, gid: 65534 } : {});
  t.is(result.code, 1, result.stderr);
  const lines = stderrLines(result);
  t.is(lines.length, 1, result.stderr);
  t.true((lines[0] ?? '').includes(join(dir, 'bad.job')), 'names the job');
  t.regex(lines[0] ?? '', /EACCES|permission denied/i);
  t.deepEqual(listDir(dir), ['a.job', 'a.out', 'bad.job', 'z-1.bck', 'z.job', 'z.out'], 'no .out for the unreadable job');
  t.is(readBytes(join(dir, 'a.out')), 'Waiting...\n[(a,1)]\n');
  t.is(readBytes(join(dir, 'z.out')), '[(z,1)]\n');
  t.regex(readBytes(join(dir, 'z-1.bck')) ?? '', /^(\(a,1\)\n)?\(z,1\)\n$/);
});

test('a jobs folder that cannot be listed is reported and the run exits 1', async (t) => {
  const parent = tempDir(t);
  const dir = join(parent, 'jobs');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.job'), 'READ [a]\n');
  chmodSync(dir, 0o000);
  t.teardown(() => chmodSync(dir, 0o755));
  // As root the folder would still be listed: run the program as nobody.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(parent, 0o755);
  const result = await runKvs(t, [dir, '1', '1'], asRoot ? { uid: 65534, gid: 65534 } : {});
  t.is(result.code, 1);
  t.is(result.stderr, `kvs: cannot read the jobs folder ${dir}: permission denied\n`, 'one clean line');
  t.is(result.summary, null, 'no run summary with a bogus file count');
});

test('a job whose .out cannot be written is reported by name while the other jobs complete', async (t) => {
  const dir = jobsDir(t, { 'a.job': 'READ [a]\n', 'b.job': 'WRITE [(b,1)]\nREAD [b]\n' });
  mkdirSync(join(dir, 'a.out'));
  const result = await runKvs(t, [dir, '1', '2']);
  t.is(result.code, 1);
  const lines = stderrLines(result);
  t.is(lines.length, 1, result.stderr);
  t.true((lines[0] ?? '').includes(join(dir, 'a.job')), 'names the job');
  t.regex(lines[0] ?? '', /a\.out is not a regular file \(a folder\)/);
  t.is(readBytes(join(dir, 'b.out')), '[(b,1)]\n');
});
