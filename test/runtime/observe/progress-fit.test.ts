/**
 * The live line in the terminal's real width (shortened part by part, the elapsed time kept), its
 * commands/s once every job is done, and the summary's wording when something failed.
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { CommandRate, PROGRESS_LEVELS, type ProgressFigures, fitProgress, formatDuration, formatProgress, formatSummary, summarize, watchRun } from '../../../runtime/observe/progress.js';
import { MAIN, PROJECT_ROOT, makeJobsDir, runCommand } from '../../helpers/program-run.js';
import { waitUntilSeen } from '../../helpers/fixtures.js';

const BUSY: ProgressFigures = { bytesRead: 1_200_000, bytesTotal: 4_800_000, filesDone: 2, filesTotal: 4, commandsPerSecond: 1_254_000, backupsRunning: 2, backupsWaiting: 3, elapsedMs: 12_340 };
const FULL = 'kvs: 1.20 MB of 4.80 MB read (25%), 2/4 files, 1.25M commands/s, 2 backups in progress (3 waiting), 12.3 s';

test('a line that fits is the whole line', (t) => {
  t.is(fitProgress(BUSY, FULL.length), FULL);
  t.is(fitProgress(BUSY, 200), FULL);
});

test('in 80 columns words are shortened first, then the least important figures go, and the elapsed time stays', (t) => {
  // The user's terminal: 80 columns, 79 used.
  t.is(fitProgress({ ...BUSY, backupsWaiting: 0 }, 79), 'kvs: 1.20 MB of 4.80 MB read (25%), 2/4 files, 1.25M cmd/s, 2 backups, 12.3 s');
  t.is(fitProgress(BUSY, 94), 'kvs: 1.20 MB of 4.80 MB read (25%), 2/4 files, 1.25M commands/s, 2 backups (3 waiting), 12.3 s');
  t.is(fitProgress(BUSY, 79), 'kvs: 25% read, 2/4 files, 1.25M cmd/s, 2 backups (3 waiting), 12.3 s');
  t.is(fitProgress(BUSY, 60), 'kvs: 25% read, 2/4 files, 1.25M cmd/s, 12.3 s');
  t.is(fitProgress(BUSY, 40), 'kvs: 25% read, 2/4 files, 12.3 s');
  t.is(fitProgress(BUSY, 25), 'kvs: 2/4 files, 12.3 s');
  t.is(fitProgress(BUSY, 12), 'kvs: 12.3 s');
  t.is(fitProgress(BUSY, 7), '12.3 s');
  t.is(fitProgress(BUSY, 4), '12.3');
});

test('with no backup under way, the backups go before any figure', (t) => {
  const idle = { ...BUSY, backupsRunning: 0, backupsWaiting: 0 };
  t.is(fitProgress(idle, 79), 'kvs: 1.20 MB of 4.80 MB read (25%), 2/4 files, 1.25M commands/s, 12.3 s');
});

test('every level is no longer than the one before, and any width gets a line that fits and ends with the time', (t) => {
  const figures = fc.record({
    bytesRead: fc.nat(5e9),
    bytesTotal: fc.option(fc.nat(5e9), { nil: null }),
    filesDone: fc.nat(10_000),
    filesTotal: fc.option(fc.nat(10_000), { nil: null }),
    commandsPerSecond: fc.nat(50_000_000),
    backupsRunning: fc.nat(64),
    backupsWaiting: fc.nat(10_000),
    elapsedMs: fc.nat(100 * 3_600_000),
  });
  fc.assert(
    fc.property(figures, fc.integer({ min: 0, max: 200 }), (f, width) => {
      for (let level = 1; level < PROGRESS_LEVELS; level++) {
        if (formatProgress(f, level).length > formatProgress(f, level - 1).length) return false;
      }
      const line = fitProgress(f, width);
      const elapsed = formatDuration(f.elapsedMs);
      return line.length <= width && (width < elapsed.length || line.endsWith(elapsed));
    }),
  );
  t.pass();
});

test('commands/s is the rate over the last second while jobs run', (t) => {
  const rate = new CommandRate(0, 0);
  t.is(rate.sample(250, 500, false), 2_000);
  t.is(rate.sample(500, 1_000, false), 2_000);
  t.is(rate.sample(1_000, 1_000, false), 1_000);
  // Nothing for a second (every job waiting): 0.
  t.is(rate.sample(1_500, 1_000, false), 0);
  // 500 more over the samples kept (from 500 ms: 1 to 1.25 s back).
  t.is(rate.sample(1_750, 1_500, false), 400);
});

test('once every job is done, commands/s is the average over the time commands ran, and stays', (t) => {
  const rate = new CommandRate(0, 0);
  t.is(rate.sample(250, 0, false), 0); // the workers starting
  rate.sample(500, 1_000, false);
  rate.sample(750, 2_000, false);
  rate.sample(1_000, 3_000, false);
  // Ran from the sample at 250 (the last before any) to 1,000 (the first after the last): 3,000 in 0.75 s.
  t.is(rate.sample(1_250, 3_000, true), 4_000);
  t.is(rate.sample(5_000, 3_000, true), 4_000);
  t.is(rate.sample(60_000, 3_000, true), 4_000);
  // A run that applied nothing shows 0.
  t.is(new CommandRate(0, 0).sample(100, 0, true), 0);
});

/** A terminal that records what is written, with a width that can change as a real one does. */
class FakeTerminal extends EventEmitter {
  readonly isTTY = true;
  columns = 120;
  readonly written: string[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.written.push(String(chunk));
    return true;
  }
  /** The live lines drawn so far (each `\r<line>\x1b[K`). */
  lines(): string[] {
    return this.written.flatMap((text) => [...text.matchAll(/\r([^\r\u001b]*)\u001b\[K/g)].map((match) => match[1]!));
  }
}

/** Enough of a supervisor for watchRun: one job file, running or done. */
function fakeSupervisor() {
  const context = { results: [] as unknown[], spawned: 1, waiting: [] as string[], next: 0, active: ['/nonexistent/kvs-test/a.job'], backupOutput: null };
  const supervisor = {
    getSnapshot: () => ({ status: 'active', matches: () => false, context, children: {} }),
    subscribe: () => ({ unsubscribe: () => undefined }),
  };
  const finishJob = () => {
    context.active = [];
    context.results = [{ jobPath: '/nonexistent/kvs-test/a.job', summary: { commands: 2_000, invalid: 0, backups: 0, stopped: false } }];
  };
  return { supervisor: supervisor as never, finishJob };
}

test('the live line is redrawn at once in the new width when the terminal is resized, the time kept', async (t) => {
  const terminal = new FakeTerminal();
  const { supervisor } = fakeSupervisor();
  let clock = 0;
  const watch = watchRun(supervisor, { live: true, quiet: true, store: { commandsApplied: 0 }, stderr: terminal as never, now: () => clock });
  t.teardown(() => watch.finish());
  clock = 12_340;
  await waitUntilSeen('a first live line', () => ({ ok: terminal.lines().length > 0, seen: JSON.stringify(terminal.written) }));
  t.true(terminal.lines().at(-1)!.endsWith(', 12.3 s'), terminal.lines().at(-1));
  const drawn = terminal.lines().length;
  terminal.columns = 30;
  terminal.emit('resize');
  const after = terminal.lines();
  t.true(after.length > drawn, 'redrawn on resize, not at the next tick');
  t.is(after.at(-1), 'kvs: 0/1 files, 12.3 s');
  t.true(after.at(-1)!.length <= 29);
});

test('after the last job is done the line keeps the rate the jobs ran at', async (t) => {
  const terminal = new FakeTerminal();
  const { supervisor, finishJob } = fakeSupervisor();
  const store = { commandsApplied: 0 };
  let clock = 0;
  const watch = watchRun(supervisor, { live: true, quiet: true, store, stderr: terminal as never, now: () => clock });
  t.teardown(() => watch.finish());
  const drawAt = async (at: number, commands: number) => {
    const before = terminal.lines().length;
    clock = at;
    store.commandsApplied = commands;
    await waitUntilSeen(`a line drawn at ${at} ms`, () => ({ ok: terminal.lines().length > before, seen: JSON.stringify(terminal.lines()) }));
    return terminal.lines().at(-1)!;
  };
  await drawAt(1_000, 1_000);
  t.regex(await drawAt(2_000, 2_000), /, 1,000 commands\/s, /);
  finishJob();
  for (const at of [3_000, 10_000, 30_000]) t.regex(await drawAt(at, 2_000), /1\/1 files, 1,000 commands\/s, /);
});

test('the summary after a lost store counts what the failed job applied and tells written backups from failed ones', (t) => {
  const results = [{ jobPath: 'a.job', error: 'redis store redis://x: connection lost', applied: 199_998 }];
  t.is(formatSummary(summarize(results, { completed: 1, failed: 1 }, 3_210)), 'kvs: 1 file (1 failed), 199,998 commands (199,998 of them applied by the job that failed), 0 invalid lines, 2 backups (1 written, 1 failed) in 3.21 s');
  const two = [
    { jobPath: 'a.job', summary: { commands: 50_000, invalid: 1, backups: 0, stopped: false } },
    { jobPath: 'b.job', error: 'lost', applied: 100 },
    { jobPath: 'c.job', error: 'lost', applied: 20 },
  ];
  t.is(formatSummary(summarize(two, { completed: 0, failed: 2 }, 100)), 'kvs: 3 files (2 failed), 50,120 commands (120 of them applied by jobs that failed), 1 invalid line, 2 backups (0 written, 2 failed) in 0.10 s');
});

test('a failed job whose count is not known is said not counted, not counted as 0', (t) => {
  const results = [
    { jobPath: 'a.job', summary: { commands: 10, invalid: 0, backups: 1, stopped: false } },
    { jobPath: 'b.job', error: 'worker crashed' },
  ];
  t.is(formatSummary(summarize(results, { completed: 1, failed: 0 }, 50)), 'kvs: 2 files (1 failed), 10 commands (commands of failed jobs not counted), 0 invalid lines, 1 backup in 0.05 s');
});

const hasPython = spawnSync('python3', ['--version']).status === 0;
const IN_TERMINAL = join(PROJECT_ROOT, 'test', 'helpers', 'in-terminal.py');

test('on a 50-column terminal every live line fits and ends with the elapsed time', async (t) => {
  t.true(hasPython, 'python3 is needed for a pseudo-terminal');
  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\nBACKUP\nWAIT 1500\nREAD [a]\n' });
  const run = await runCommand('env', ['PTY_COLUMNS=50', 'python3', IN_TERMINAL, process.execPath, MAIN, dir, '1', '1'], { deadlineMs: 90_000 });
  t.is(run.code, 0, run.stdout);
  const drawn = [...run.stdout.matchAll(/\r([^\r\n\u001b]+)\u001b\[K/g)].map((match) => match[1]!);
  t.true(drawn.length > 0, JSON.stringify(run.stdout));
  for (const line of drawn) {
    t.true(line.length <= 49, `${JSON.stringify(line)} is ${line.length} columns`);
    t.regex(line, /\d s$/, 'the elapsed time is shown');
  }
});
