import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { formatBytes, formatDuration, formatJobDone, formatProgress, openPositions, formatRate, formatSummary, groupDigits, summarize, wantsLiveLine } from '../../../runtime/observe/progress.js';
import { MAIN, PROJECT_ROOT, lines, makeJobsDir, runCommand, runProgram } from '../../helpers/program-run.js';

const SUMMARY = /^kvs: \d+ files?(?: \(\d+ failed\))?, [\d,]+ commands?(?: \([^)]*\))?, [\d,]+ invalid lines?, [\d,]+ backups?(?: \([\d,]+ written, [\d,]+ failed\))? in [\d.]+ s$/;

test('the progress line shows bytes read of the total, files done of total, commands/s, backups in progress and the time', (t) => {
  t.is(
    formatProgress({ bytesRead: 1_200_000, bytesTotal: 4_800_000, filesDone: 2, filesTotal: 4, commandsPerSecond: 1_254_000, backupsRunning: 1, backupsWaiting: 0, elapsedMs: 3_104 }),
    'kvs: 1.20 MB of 4.80 MB read (25%), 2/4 files, 1.25M commands/s, 1 backup in progress, 3.10 s',
  );
  t.is(
    formatProgress({ bytesRead: 65_536, bytesTotal: 131_000, filesDone: 0, filesTotal: 8, commandsPerSecond: 9_500, backupsRunning: 2, backupsWaiting: 3, elapsedMs: 12_340 }),
    'kvs: 65.5 kB of 131 kB read (50%), 0/8 files, 9,500 commands/s, 2 backups in progress (3 waiting), 12.3 s',
  );
  t.is(
    formatProgress({ bytesRead: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0, commandsPerSecond: 0, backupsRunning: 0, backupsWaiting: 0, elapsedMs: 10 }),
    'kvs: 0 B of 0 B read (100%), 0/0 files, 0 commands/s, 0 backups in progress, 0.01 s',
  );
  t.is(
    formatProgress({ bytesRead: 0, bytesTotal: null, filesDone: 0, filesTotal: null, commandsPerSecond: 0, backupsRunning: 0, backupsWaiting: 0, elapsedMs: 40 }),
    'kvs: reading the jobs folder, 0 commands/s, 0 backups in progress, 0.04 s',
  );
});

test('byte counts are short and readable', (t) => {
  t.deepEqual([0, 999, 1_000, 12_345, 999_499, 4_800_000, 1_200_000_000].map(formatBytes), ['0 B', '999 B', '1.00 kB', '12.3 kB', '999 kB', '4.80 MB', '1.20 GB']);
});

test('the read position of an open file is seen from its descriptor, as a worker reads it', async (t) => {
  const dir = await makeJobsDir(t, { 'a.job': 'x'.repeat(10_000) });
  const path = realpathSync(join(dir, 'a.job'));
  const fd = openSync(path, 'r');
  t.teardown(() => closeSync(fd));
  t.deepEqual(openPositions(new Map([[path, 0]])), new Map([[path, 0]]));
  readSync(fd, Buffer.alloc(4_096), 0, 4_096, null);
  t.deepEqual(openPositions(new Map([[path, 0]])), new Map([[path, 4_096]]));
});

test('rates, counts and durations are short and readable', (t) => {
  t.is(groupDigits(1_234_567), '1,234,567');
  t.is(groupDigits(999), '999');
  t.deepEqual([950, 12_345, 123_456, 2_500_000].map(formatRate), ['950', '12.3k', '123k', '2.50M']);
  t.deepEqual([420, 12_340, 125_000].map(formatDuration), ['0.42 s', '12.3 s', '2 min 05 s']);
});

test('the summary adds up every job and says what failed', (t) => {
  const results = [
    { jobPath: 'a.job', summary: { commands: 150_000, invalid: 2, backups: 1, stopped: false } },
    { jobPath: 'b.job', summary: { commands: 50_000, invalid: 1, backups: 3, stopped: false } },
    { jobPath: 'c.job', error: 'EACCES', applied: 0 },
  ];
  const summary = summarize(results, { completed: 3, failed: 1 }, 1_240);
  t.deepEqual(summary, { files: 3, failedFiles: 1, commands: 200_000, failedJobCommands: 0, uncountedFailedJobs: 0, invalid: 3, backups: 3, failedBackups: 1, elapsedMs: 1_240 });
  t.is(formatSummary(summary), 'kvs: 3 files (1 failed), 200,000 commands, 3 invalid lines, 4 backups (3 written, 1 failed) in 1.24 s');
  t.is(formatSummary(summarize([results[0]!], { completed: 1, failed: 0 }, 90)), 'kvs: 1 file, 150,000 commands, 2 invalid lines, 1 backup in 0.09 s');
});

test('in server mode each job that ends gets a line; a failed one was reported where it failed', (t) => {
  t.is(formatJobDone({ jobPath: 'jobs/a.job', summary: { commands: 1_500, invalid: 1, backups: 2, stopped: false } }), 'kvs: jobs/a.job done: 1,500 commands, 1 invalid line, 2 backups');
  t.is(formatJobDone({ jobPath: 'jobs/b.job', summary: { commands: 1, invalid: 0, backups: 1, stopped: true } }), 'kvs: jobs/b.job stopped: 1 command, 0 invalid lines, 1 backup');
  t.is(formatJobDone({ jobPath: 'jobs/c.job', error: 'EACCES' }), null);
});

test('the live line is only for batch mode with stdout and stderr on a terminal, and not when quiet', (t) => {
  const tty = { isTTY: true };
  const pipe = {};
  t.true(wantsLiveLine('batch', false, tty, tty));
  t.false(wantsLiveLine('batch', true, tty, tty));
  t.false(wantsLiveLine('batch', false, pipe, tty));
  t.false(wantsLiveLine('batch', false, tty, pipe));
  t.false(wantsLiveLine('server', false, tty, tty));
});

test('a batch run ends with one summary line on stderr, and a pipe gets no progress line', async (t) => {
  const dir = await makeJobsDir(t, {
    'a.job': 'WRITE [(a,1)(b,2)]\nREAD [a,b]\nBACKUP\nNOPE\nWAIT 600\nSHOW\n',
    'b.job': 'WRITE [(c,3)]\nBACKUP\nBACKUP\n',
  });
  const run = await runProgram([dir, '2', '2']);
  t.is(run.code, 0, run.stderr);
  const stderr = lines(run.stderr);
  t.is(stderr.at(-1)!.replace(/[\d.]+ s$/, 'T s'), 'kvs: 2 files, 8 commands, 1 invalid line, 3 backups in T s');
  t.is(stderr.filter((line) => SUMMARY.test(line)).length, 1);
  t.false(run.stderr.includes('commands/s'));
  t.false(/[\r\u001b]/.test(run.stderr), 'no carriage return or escape sequence on a pipe');
});

test('--quiet leaves out the summary', async (t) => {
  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\nREAD [a]\n' });
  const run = await runProgram([dir, '1', '1', '--quiet']);
  t.is(run.code, 0);
  t.is(run.stderr, '');
});

const hasPython = spawnSync('python3', ['--version']).status === 0;
const IN_TERMINAL = join(PROJECT_ROOT, 'test', 'helpers', 'in-terminal.py');

test('on a terminal the live line is drawn, cleared for other messages, and the summary follows it', async (t) => {
  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\nBACKUP\nWAIT 900\nBAD LINE\nWAIT 600\nREAD [a]\n' });
  const run = await runCommand('python3', [IN_TERMINAL, process.execPath, MAIN, dir, '1', '1']);
  t.is(run.code, 0, run.stdout);
  const screen = run.stdout;
  t.regex(screen, /kvs: [\d.]+ k?B of [\d.]+ B read \(\d+%\), [01]\/1 files, [\d.,kM]+ commands\/s, \d backups? in progress, [\d.]+ s/);
  // A message in the middle of the run starts on a cleared line.
  t.regex(screen, /\r\u001b\[K[^\r\n]*\.job:4: /);
  // The live line is erased last, and the summary is written in its place, on a line of its own.
  const afterLastErase = screen.slice(screen.lastIndexOf('\r\u001b[K') + 4);
  t.regex(afterLastErase, /^kvs: 1 file, 5 commands, 1 invalid line, 1 backup in [\d.]+ s\r?\n$/);
});

test('on a terminal the bytes read advance while every file runs at once', async (t) => {
  // Each file is several of the reader's 64 KiB chunks, and waits at its start and at its end:
  // while both wait at the start, part of each is read and neither is done.
  const filler = '# filler line to make the file long enough\n'.repeat(6_000);
  const job = `WAIT 1000\n${filler}WRITE [(a,1)]\nWAIT 1000\nREAD [a]\n`;
  const dir = await makeJobsDir(t, { 'a.job': job, 'b.job': job });
  // A loaded machine can take seconds to start the workers: a generous deadline, never a timing check.
  const run = await runCommand('python3', [IN_TERMINAL, process.execPath, MAIN, dir, '2', '1'], { deadlineMs: 90_000 });
  t.is(run.code, 0, run.stdout);
  const percents = [...run.stdout.matchAll(/read \((\d+)%\), 0\/2 files/g)].map((match) => Number(match[1]));
  t.true(percents.some((percent) => percent > 0 && percent < 100), `percents seen with 0/2 files done: ${percents.join(' ')}`);
  t.true(percents.some((percent) => percent >= 50), `percents seen with 0/2 files done: ${percents.join(' ')}`);
});
