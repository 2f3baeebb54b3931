/**
 * What a person at a terminal sees of a run: a live line on stderr (bytes of the job files read
 * out of their total, files done of total, commands/s, backups in progress), redrawn a few times a second in batch mode when both stdout
 * and stderr are terminals, and one summary line at the end, always unless `--quiet`.
 *
 * The figures are read, never evented: the supervisor's snapshot (its results hold each job's
 * JobSummary), the backup coordinator's snapshot, and the store's running count of commands,
 * polled at each redraw. Nothing here adds work per command.
 */
import { readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import type { Actor } from 'xstate';
import type { KvStore } from '../../protocol/store-contract.js';
import { type JobResult, runView, type supervisorMachine } from '../../actors/supervisor.js';
import { escapeControls } from '../../protocol/keys.js';

const REDRAW_MS = 250;
/** Back to the start of the line, and erase to its end. */
const CLEAR_LINE = '\r\u001b[K';
/** The commands/s figure is the rate over about the last second. */
const RATE_WINDOW_MS = 1_000;
/** The width assumed when the terminal does not say. */
const DEFAULT_COLUMNS = 80;

export interface ProgressFigures {
  /** Bytes of the job files read so far, and their total (null until the folder has been read). */
  readonly bytesRead: number;
  readonly bytesTotal: number | null;
  readonly filesDone: number;
  /** Null until the folder has been read. */
  readonly filesTotal: number | null;
  readonly commandsPerSecond: number;
  readonly backupsRunning: number;
  readonly backupsWaiting: number;
  readonly elapsedMs: number;
}

export interface RunSummary {
  readonly files: number;
  readonly failedFiles: number;
  /** Commands of the jobs that ended, and those the store applied for jobs that failed. */
  readonly commands: number;
  /** Of `commands`, those the store applied for jobs that failed before they did. */
  readonly failedJobCommands: number;
  /** Failed jobs whose applied commands are not known (not in `commands`). */
  readonly uncountedFailedJobs: number;
  readonly invalid: number;
  /** Backups written (`.bck` files). */
  readonly backups: number;
  readonly failedBackups: number;
  readonly elapsedMs: number;
}

/** `1234567` as `1,234,567`. */
export function groupDigits(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A rate, short: `950`, `9,500`, `95.0k`, `950k`, `1.25M`. */
export function formatRate(n: number): string {
  if (n < 10_000) return groupDigits(n);
  if (n < 1_000_000) return `${(n / 1_000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

/** `0.42 s`, `12.3 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1_000;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${groupDigits(n)} ${n === 1 ? one : many}`;
}

/** `950 B`, `12.3 kB`, `4.80 MB`, `1.20 GB` (powers of 1,000). */
export function formatBytes(n: number): string {
  if (n < 1_000) return `${Math.round(n)} B`;
  const [value, unit] = n < 1e6 ? [n / 1e3, 'kB'] : n < 1e9 ? [n / 1e6, 'MB'] : [n / 1e9, 'GB'];
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${unit}`;
}

/** How much of the live line to show: 0 all of it, each level after it less (see fitProgress). */
export const PROGRESS_LEVELS = 9;

/**
 * The live line, without its `\r`:
 * `kvs: 1.20 MB of 4.80 MB read (25%), 2/4 files, 1.25M commands/s, 1 backup in progress, 3.10 s`.
 * At each `level` past 0 a part is shortened or left out, the least important first and the
 * elapsed time never: first shorter words that lose nothing (1 the backups without "in progress",
 * and none at all when there are none; 2 `cmd/s`), then figures (3 the bytes read as a percentage
 * only, 4 no backups, 5 no rate, 6 nothing read, 7 no files), 8 no `kvs: ` either.
 */
export function formatProgress(figures: ProgressFigures, level = 0): string {
  const { bytesRead, bytesTotal } = figures;
  const percent = bytesTotal === null ? '' : `${bytesTotal === 0 ? 100 : Math.floor((100 * Math.min(bytesRead, bytesTotal)) / bytesTotal)}%`;
  const read = bytesTotal === null || level >= 6 ? null : level >= 3 ? `${percent} read` : `${formatBytes(bytesRead)} of ${formatBytes(bytesTotal)} read (${percent})`;
  const files = level >= 7 ? null : figures.filesTotal === null ? 'reading the jobs folder' : `${figures.filesDone}/${figures.filesTotal} files`;
  const rate = level >= 5 ? null : `${formatRate(figures.commandsPerSecond)} ${level >= 2 ? 'cmd/s' : 'commands/s'}`;
  const waiting = figures.backupsWaiting > 0 ? ` (${figures.backupsWaiting} waiting)` : '';
  const backups =
    level >= 4 || (level >= 1 && figures.backupsRunning + figures.backupsWaiting === 0) ? null
    : `${plural(figures.backupsRunning, 'backup')}${level >= 1 ? '' : ' in progress'}${waiting}`;
  const parts = [read, files, rate, backups, formatDuration(figures.elapsedMs)].filter((part) => part !== null);
  return `${level >= 8 ? '' : 'kvs: '}${parts.join(', ')}`;
}

/**
 * The live line in at most `width` columns: the first level of formatProgress that fits, so the
 * least important parts go first and the elapsed time stays (alone, cut, below 7 columns).
 */
export function fitProgress(figures: ProgressFigures, width: number): string {
  let line = '';
  for (let level = 0; level < PROGRESS_LEVELS; level++) {
    line = formatProgress(figures, level);
    if (line.length <= width) return line;
  }
  return line.slice(0, Math.max(0, width));
}

/**
 * The commands/s figure. While jobs run: the rate over about the last second. Once every job is
 * done (backups may still be written), the rate no longer falls towards 0: it is the average over
 * the time commands were applied, from the last sample before the first to the first sample
 * after the last (so to within a redraw at each end), and it stays there.
 */
export class CommandRate {
  private readonly samples: { at: number; commands: number }[];
  private readonly initial: number;
  /** The last sample before commands started, and the first one after they last moved. */
  private startedAt: number;
  private lastMovedAt: number | null = null;
  private final: number | null = null;

  constructor(at: number, commands: number) {
    this.samples = [{ at, commands }];
    this.initial = commands;
    this.startedAt = at;
  }

  sample(at: number, commands: number, allDone: boolean): number {
    if (this.final !== null) return this.final;
    const previous = this.samples[this.samples.length - 1]!;
    if (commands === this.initial) this.startedAt = at;
    if (commands > previous.commands) this.lastMovedAt = at;
    if (allDone) {
      const ran = this.lastMovedAt === null ? 0 : this.lastMovedAt - this.startedAt;
      this.final = ran > 0 ? ((commands - this.initial) * 1_000) / ran : 0;
      return this.final;
    }
    this.samples.push({ at, commands });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    return at > first.at ? ((commands - first.commands) * 1_000) / (at - first.at) : 0;
  }
}

/**
 * Server mode's line for one job that ended (there is no end of run to sum up at), e.g.
 * `kvs: jobs/update.job done: 2 commands, 0 invalid lines, 0 backups`. A failed job is reported
 * where it failed, so it has no line here.
 */
export function formatJobDone(result: JobResult): string | null {
  if (result.summary === undefined) return null;
  const { commands, invalid, backups, stopped } = result.summary;
  return `kvs: ${result.jobPath} ${stopped ? 'stopped' : 'done'}: ${plural(commands, 'command')}, ${plural(invalid, 'invalid line')}, ${plural(backups, 'backup')}`;
}

/**
 * The last line: `kvs: 4 files, 200,000 commands, 3 invalid lines, 4 backups in 1.24 s`. What
 * failed is told apart: `2 files (1 failed), 250,000 commands (200,000 of them applied by the job
 * that failed), ..., 2 backups (1 written, 1 failed)`.
 */
export function formatSummary(summary: RunSummary): string {
  const failedFiles = summary.failedFiles > 0 ? ` (${summary.failedFiles} failed)` : '';
  const by = summary.failedFiles === 1 ? 'the job that failed' : 'jobs that failed';
  const ofFailed =
    summary.uncountedFailedJobs > 0 ? ' (commands of failed jobs not counted)'
    : summary.failedJobCommands > 0 ? ` (${groupDigits(summary.failedJobCommands)} of them applied by ${by})`
    : '';
  const backups = summary.failedBackups > 0
    ? `${plural(summary.backups + summary.failedBackups, 'backup')} (${groupDigits(summary.backups)} written, ${groupDigits(summary.failedBackups)} failed)`
    : plural(summary.backups, 'backup');
  return (
    `kvs: ${plural(summary.files, 'file')}${failedFiles}, ${plural(summary.commands, 'command')}${ofFailed}, ` +
    `${plural(summary.invalid, 'invalid line')}, ${backups} in ${formatDuration(summary.elapsedMs)}`
  );
}

/**
 * Totals over the jobs that ended; `backups` counts the `.bck` files written. A failed job counts
 * the commands the store applied for it (its `applied`), when known.
 */
export function summarize(results: readonly JobResult[], backups: { completed: number; failed: number }, elapsedMs: number): RunSummary {
  let commands = 0;
  let failedJobCommands = 0;
  let uncountedFailedJobs = 0;
  let invalid = 0;
  let failedFiles = 0;
  for (const result of results) {
    if (result.summary !== undefined) {
      commands += result.summary.commands;
      invalid += result.summary.invalid;
    }
    if (result.error === undefined) continue;
    failedFiles++;
    if (result.applied === undefined) uncountedFailedJobs++;
    else failedJobCommands += result.applied;
  }
  commands += failedJobCommands;
  return { files: results.length, failedFiles, commands, failedJobCommands, uncountedFailedJobs, invalid, backups: backups.completed, failedBackups: backups.failed, elapsedMs };
}

interface Terminal {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** The live line is for a person watching: batch mode, both stdout and stderr terminals, not quiet. */
export function wantsLiveLine(mode: 'batch' | 'server', quiet: boolean, stdout: Terminal, stderr: Terminal): boolean {
  return mode === 'batch' && !quiet && stdout.isTTY === true && stderr.isTTY === true;
}

export interface WatchOptions {
  readonly live: boolean;
  /** Server mode: a line as each job ends (unless quiet), since the run has no end to sum up at. */
  readonly eachJob?: boolean;
  readonly quiet: boolean;
  readonly store: Pick<KvStore, 'commandsApplied'>;
  readonly stderr?: NodeJS.WriteStream;
  readonly now?: () => number;
}

export interface RunWatch {
  /** Stops the live line and prints the summary (unless quiet). Idempotent. */
  finish(): void;
}

type SupervisorActor = Actor<typeof supervisorMachine>;

/** Watches a supervisor from before it starts to after it ends. */
export function watchRun(supervisor: SupervisorActor, options: WatchOptions): RunWatch {
  const stderr = options.stderr ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const rate = new CommandRate(started, options.store.commandsApplied);
  const positions = new ReadPositions();
  let finished = false;
  let shown = false;
  const write = stderr.write;
  let timer: NodeJS.Timeout | null = null;

  // Through the stream's own `write`, not the wrapper below.
  const hide = () => {
    if (!shown) return;
    shown = false;
    write.call(stderr, CLEAR_LINE);
  };

  const draw = () => {
    if (finished) return;
    const at = now();
    const figures = readFigures(supervisor);
    const allDone = figures.filesTotal !== null && figures.filesDone >= figures.filesTotal;
    const commandsPerSecond = rate.sample(at, options.store.commandsApplied, allDone);
    const { bytesRead, bytesTotal } = figures.filesTotal === null ? { bytesRead: 0, bytesTotal: null } : positions.read(supervisor);
    // Never as wide as the terminal (its real width, read at each redraw): a line that wraps, or
    // one in the last column, could not be erased with one `\r`.
    const width = (stderr.columns || DEFAULT_COLUMNS) - 1;
    const line = fitProgress({ ...figures, bytesRead, bytesTotal, commandsPerSecond, elapsedMs: at - started }, width);
    write.call(stderr, `\r${line}\u001b[K`);
    shown = true;
  };

  let jobsSeen = 0;
  const eachJob =
    options.eachJob === true && !options.quiet
      ? supervisor.subscribe(() => {
          const { results } = runView(supervisor);
          for (; jobsSeen < results.length; jobsSeen++) {
            const line = formatJobDone(results[jobsSeen]!);
            if (line !== null) stderr.write(`${escapeControls(line)}\n`);
          }
        })
      : null;

  if (options.live) {
    // Whatever else is written to stderr (a bad line in a job, a failed backup; the workers'
    // stderr is piped through this stream too) first clears the live line, so nothing is
    // garbled; the next redraw puts the line back under it.
    stderr.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof write>) {
      hide();
      return write.apply(this, args);
    } as typeof write;
    timer = setInterval(draw, REDRAW_MS);
    timer.unref();
    // Redrawn at once in the new width: a line wider than the terminal now would wrap.
    stderr.on('resize', draw);
  }

  return {
    finish() {
      if (finished) return;
      finished = true;
      if (timer !== null) clearInterval(timer);
      eachJob?.unsubscribe();
      if (options.live) {
        stderr.off('resize', draw);
        hide();
        stderr.write = write;
      }
      if (options.quiet) return;
      const { results, backups } = readTotals(supervisor);
      stderr.write(`${formatSummary(summarize(results, backups, now() - started))}\n`);
    },
  };
}

/** What the live view shows of the data (runtime/observe/inspect.ts sends it). */
export interface DataFigures {
  readonly keys: number;
  /** Over about the last second. */
  readonly commandsPerSecond: number;
  readonly backupsRunning: number;
  readonly backupsWaiting: number;
}

/** A sampler of the data's figures, read as the progress line reads them: never evented. */
export function sampleDataFigures(supervisor: SupervisorActor, store: Pick<KvStore, 'commandsApplied' | 'size'>, now = () => performance.now()): () => Promise<DataFigures> {
  const rate = new CommandRate(now(), store.commandsApplied);
  return async () => {
    const { backupsRunning, backupsWaiting } = readFigures(supervisor);
    const commandsPerSecond = rate.sample(now(), store.commandsApplied, false);
    return { keys: await store.size(), commandsPerSecond, backupsRunning, backupsWaiting };
  };
}

function readFigures(supervisor: SupervisorActor): Omit<ProgressFigures, 'commandsPerSecond' | 'elapsedMs' | 'bytesRead' | 'bytesTotal'> {
  const { results, filesTotal, backups } = runView(supervisor);
  return { filesDone: results.length, filesTotal, backupsRunning: backups.running, backupsWaiting: backups.waiting };
}

function readTotals(supervisor: SupervisorActor): { results: readonly JobResult[]; backups: { completed: number; failed: number } } {
  // Stopped early or failed: what the coordinator had done by then.
  const { results, backups } = runView(supervisor);
  return { results, backups: { completed: backups.completed, failed: backups.failed } };
}

/**
 * How far the job files have been read, without adding work to the jobs: a finished file counts
 * whole, a running one at the file position of the descriptor its worker reads it through (the
 * worker threads share this process's descriptors; Linux shows their positions in
 * /proc/self/fdinfo), a file not yet opened as 0. Elsewhere a running file counts as 0 until done.
 */
export class ReadPositions {
  /** The real path and size of each job file, read once. */
  private readonly files = new Map<string, { real: string; size: number }>();

  private file(path: string): { real: string; size: number } {
    let file = this.files.get(path);
    if (file === undefined) {
      try {
        file = { real: realpathSync(path), size: statSync(path).size };
      } catch {
        file = { real: path, size: 0 };
      }
      this.files.set(path, file);
    }
    return file;
  }

  read(supervisor: SupervisorActor): { bytesRead: number; bytesTotal: number } {
    const { active, results } = runView(supervisor);
    const running = new Set(active);
    let bytesRead = 0;
    let bytesTotal = 0;
    const open = new Map<string, number>();
    for (const path of running) open.set(this.file(path).real, 0);
    for (const [real, position] of openPositions(open)) open.set(real, position);
    for (const path of running) {
      const { real, size } = this.file(path);
      bytesTotal += size;
      bytesRead += Math.min(size, open.get(real) ?? 0);
    }
    for (const result of results) {
      // A failed folder read is a result too, with no file behind it.
      if (running.has(result.jobPath) || result.summary === undefined) continue;
      const { size } = this.file(result.jobPath);
      bytesTotal += size;
      bytesRead += size;
    }
    return { bytesRead, bytesTotal };
  }
}

/** The file position of each open descriptor whose real path is one of `wanted`'s keys (Linux). */
export function openPositions(wanted: ReadonlyMap<string, number>): Map<string, number> {
  const positions = new Map<string, number>();
  if (wanted.size === 0) return positions;
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return positions;
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (!wanted.has(target)) continue;
      const position = Number(/^pos:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1] ?? 0);
      positions.set(target, Math.max(positions.get(target) ?? 0, position));
    } catch {
      // closed between the listing and the look: that file is done, or not yet open
    }
  }
  return positions;
}
