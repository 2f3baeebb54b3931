/**
 * The program: wires the actors together and touches the OS. Batch mode runs every job and
 * exits once every `.out` and `.bck` is complete; server mode also serves clients until SIGINT or
 * SIGTERM, then shuts down cleanly. Exit codes: 0 all went well (and every clean server shutdown),
 * 1 a job or backup failed (the others' output is complete), the jobs folder cannot be read, the
 * server could not start, or the store (Redis) could not be reached or was lost; 2 bad arguments;
 * 128 + the signal's number when a batch run is stopped by SIGINT (130), SIGTERM (143) or SIGHUP
 * (129), what had run flushed.
 *
 * Start-up order: this module loads only what reading the command line and the folder needs,
 * then starts the pool's first worker thread, and only then loads the actors (run.ts) and xstate,
 * so that the thread boots on another core while this one loads them.
 */
import { stat } from 'node:fs/promises';
import { describeError, errorCode } from '../protocol/system-errors.js';
import { dropWritesOnceClosed } from './os/closed-output.js';
import { HELP_HINT, PROGRAM, USAGE, parseCommandLine } from './cli/command-line.js';
import { listJobs } from './batch/job-listing.js';
import { createJobPool } from './batch/job-pool.js';
import { report } from './cli/report.js';
import { asTyped, versionLine } from './cli/version.js';
import { type Lock, lockFolder } from './os/process-lock.js';

export async function main(argv: readonly string[]): Promise<number> {
  // Before any worker thread is started: their stderr is piped into ours.
  dropWritesOnceClosed(process.stdout);
  dropWritesOnceClosed(process.stderr);
  const commandLine = parseCommandLine(argv);
  if (commandLine.kind === 'help' || commandLine.kind === 'version') {
    process.stdout.write(`${commandLine.kind === 'help' ? asTyped(USAGE, PROGRAM, 'kvs') : versionLine()}\n`);
    return 0;
  }
  if (commandLine.kind === 'error') return badArguments(commandLine.reason);
  const options = commandLine.options;
  for (const warning of commandLine.warnings) report(`warning: ${warning}`);
  // Listed here once, so that a folder that cannot be read is one clean line and not a failed job.
  let jobs: string[];
  try {
    const folder = await stat(options.jobsDir);
    if (!folder.isDirectory()) return badArguments(`${options.jobsDir} is not a folder`);
    jobs = await listJobs(options.jobsDir);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return badArguments(`${options.jobsDir} does not exist`);
    if (code === 'ENOTDIR') return badArguments(`${options.jobsDir} does not exist: a part of its path is not a folder`);
    report(`cannot read the jobs folder ${options.jobsDir}: ${describeError(error)}`);
    return 1;
  }
  if (jobs.length === 0 && options.mode === 'batch') {
    // Exit 0: an empty folder is not an error, but a run that does nothing should say why.
    report(`no .job files found in ${options.jobsDir} (only regular files named *.job directly in it are run)`);
    return 0;
  }
  // One run per folder; taken after the listing, which only reads (an empty folder in batch mode
  // touches nothing), and before anything is written, started or connected.
  let lock: Lock;
  try {
    lock = await lockFolder(options.jobsDir);
  } catch (error) {
    report(`cannot lock the jobs folder ${options.jobsDir}: ${describeError(error)}`);
    return 1;
  }
  if (!lock.ok) {
    report(`the jobs folder ${options.jobsDir} is in use by another kvs run (${lock.holder === null ? 'it did not say its pid' : `pid ${lock.holder}`}): one run per folder at a time`);
    return 1;
  }
  const pool = createJobPool(options.threads, jobs.length);
  let run: typeof import('./run.js').run;
  try {
    ({ run } = await import('./run.js'));
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  return run(options, pool, jobs);
}

/** The reason, and one line pointing at --help; exit status 2. */
function badArguments(reason: string): number {
  report(asTyped(reason, PROGRAM, 'kvs'));
  report(asTyped(HELP_HINT, PROGRAM, 'kvs'));
  return 2;
}

