/**
 * The command line's messages through the real program: every mistake in the program's own words
 * (never util.parseArgs' text), one line for the reason and one pointing at --help, exit 2; and
 * what a run that has nothing to do says.
 */
import test from 'ava';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jobsDir, listDir, runKvs, tempDir } from '../helpers/batch.js';

const HINT = "kvs: run 'node runtime/main.js --help' for the usage";
/** Phrases of util.parseArgs' own messages, which must never reach the user. */
const PARSE_ARGS_TEXT = /ambiguous|Did you forget|To specify an option argument|Unknown option|ERR_PARSE_ARGS|Usage:/;

/** Arguments (DIR stands for an existing empty folder) and the exact reason line. */
const MISTAKES: ReadonlyArray<readonly [readonly string[], string]> = [
  [['DIR', '--bogus'], "kvs: unknown option '--bogus'"],
  [['DIR', '-x', '2', '2'], "kvs: unknown option '-x'"],
  [['DIR', '--bogus=3'], "kvs: unknown option '--bogus'"],
  [['DIR', '--threads'], 'kvs: --threads needs a value: --threads N'],
  [['DIR', '--compat', '--quiet'], 'kvs: --compat needs a value: --compat=seed|course'],
  [['DIR', '--fifo', '--threads', '2'], 'kvs: --fifo needs a value: --fifo PATH'],
  [['DIR', '--quiet=yes'], 'kvs: --quiet takes no value'],
  [['DIR', '--threads', '0'], 'kvs: --threads must be at least 1'],
  [['DIR', '--backups', 'two'], "kvs: --backups must be a whole number, not 'two'"],
  [['DIR', '--backups=', '--threads', '2'], "kvs: --backups must be a whole number, not ''"],
  [['DIR', '2', '0'], 'kvs: max_threads must be at least 1'],
  [['DIR', '0', '2', 'register_fifo'], 'kvs: max_threads must be at least 1'],
  [['DIR', '--fifo', 'f', '--sessions', '0'], 'kvs: --sessions must be at least 1'],
  [['', '2', '2'], "kvs: the jobs folder is an empty argument (''): name a folder, such as ./jobs"],
  [['/nonexistent/kvs-jobs', '2', '2'], 'kvs: /nonexistent/kvs-jobs does not exist'],
];

for (const [args, reason] of MISTAKES) {
  test(`[${args.map((a) => JSON.stringify(a)).join(' ')}] says '${reason.slice(5)}' and points at --help, exit 2`, async (t) => {
    const dir = tempDir(t);
    const result = await runKvs(t, args.map((arg) => (arg === 'DIR' ? dir : arg)));
    t.is(result.code, 2);
    t.is(result.stdout, '');
    t.is(result.stderr, `${reason}\n${HINT}\n`);
    t.notRegex(result.stderr, PARSE_ARGS_TEXT);
    t.deepEqual(listDir(dir), [], 'nothing written');
  });
}

test('a stray number as the registration FIFO (./jobs 2 4 5) is refused with the two forms and how to insist, and no FIFO is made', async (t) => {
  const dir = tempDir(t);
  const cwd = tempDir(t);
  const result = await runKvs(t, [dir, '2', '4', '5'], { cwd });
  t.is(result.code, 2);
  t.is(
    result.stderr,
    "kvs: the registration FIFO '5' is a bare number, most likely a count too many: batch mode is <jobs_dir> <max_backups> <max_threads>, " +
      'server mode <jobs_dir> <max_threads> <max_backups> <register_fifo> (to serve on a FIFO named 5, write ./5)\n' +
      `${HINT}\n`,
  );
  t.deepEqual(listDir(cwd), [], 'no FIFO named 5');
});

for (const [args, shown] of [
  [['2', '4', 'DIR'], 'DIR 2 4'],
  [['4', '2', 'DIR', 'register_fifo'], 'DIR 4 2 register_fifo'],
] as const) {
  test(`counts before the folder [${args.join(' ')}] are answered with the folder first`, async (t) => {
    const dir = tempDir(t);
    const result = await runKvs(t, args.map((arg) => (arg === 'DIR' ? dir : arg)));
    t.is(result.code, 2);
    t.is(result.stderr, `kvs: the jobs folder comes first: node runtime/main.js ${shown.replace('DIR', dir)} (not '${dir}' after the counts)\n${HINT}\n`);
    t.deepEqual(listDir(dir), [], 'nothing written');
  });
}

test('a jobs folder under a regular file is said not to exist, exit 2', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), 'not a folder\n');
  const result = await runKvs(t, [join(dir, 'file', 'jobs'), '2', '2']);
  t.is(result.code, 2);
  t.is(result.stderr, `kvs: ${join(dir, 'file', 'jobs')} does not exist: a part of its path is not a folder\n${HINT}\n`);
});

test('a regular file given as the jobs folder is not a folder, exit 2', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), '');
  const result = await runKvs(t, [join(dir, 'file'), '2', '2']);
  t.is(result.code, 2);
  t.is(result.stderr, `kvs: ${join(dir, 'file')} is not a folder\n${HINT}\n`);
});

test('--sessions in batch mode is run with a warning that it is ignored', async (t) => {
  const dir = jobsDir(t, { 'a.job': 'WRITE [(a,1)]\nREAD [a]\n' });
  const result = await runKvs(t, [dir, '2', '2', '--sessions', '3']);
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, 'kvs: warning: --sessions is ignored in batch mode: it counts the clients a server serves at once\n');
  t.deepEqual(listDir(dir), ['a.job', 'a.out']);
});

test('a folder with nothing to run (x.JOB, a folder named sub.job) says no .job files were found, exit 0', async (t) => {
  const dir = jobsDir(t, { 'x.JOB': 'WRITE [(a,1)]\n', 'notes.txt': 'READ [a]\n' });
  mkdirSync(join(dir, 'sub.job'));
  const result = await runKvs(t, [dir, '2', '2']);
  t.is(result.code, 0);
  t.is(result.stderr, `kvs: no .job files found in ${dir} (only regular files named *.job directly in it are run)\n`);
  t.is(result.summary, null);
  t.deepEqual(listDir(dir), ['notes.txt', 'sub.job', 'x.JOB'], 'nothing written');
});

test('a jobs folder that cannot be read is one clean line and exit 1, without a run summary', async (t) => {
  const parent = tempDir(t);
  const dir = join(parent, 'jobs');
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'a.job'), 'READ [a]\n');
  // root reads any folder: when the tests run as root, the program runs as nobody, whom the
  // folder's mode (0700, owned by root) shuts out. Otherwise the mode 000 does it.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(parent, 0o755);
  else chmodSync(dir, 0o000);
  t.teardown(() => chmodSync(dir, 0o755));
  const result = await runKvs(t, [dir, '1', '1'], asRoot ? { uid: 65534, gid: 65534 } : {});
  t.is(result.code, 1);
  t.is(result.stderr, `kvs: cannot read the jobs folder ${dir}: permission denied\n`);
  t.notRegex(result.stderr, /Error:|EACCES/);
  t.is(result.summary, null);
});
