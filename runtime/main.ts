/**
 * The program: wires the actors together and touches the OS. Batch mode runs every job and
 * exits once every `.out` and `.bck` is complete; server mode also serves clients until SIGINT or
 * SIGTERM, then shuts down cleanly. Exit codes: 0 all went well (and every clean server shutdown),
 * 1 a job or backup failed (the others' output is complete), the jobs folder cannot be read, the
 * server could not start, or the store (Redis) could not be reached or was lost; 2 bad arguments;
 * 130 batch mode interrupted (what had run is flushed).
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { createActor, fromPromise, toPromise } from 'xstate';
import { errorMessage } from '../protocol/guards.js';
import type { SupervisorOutput } from '../actors/supervisor.js';
import { escapeControls } from '../protocol/keys.js';
import type { KvStore } from '../protocol/store-contract.js';
import { describeError, errorCode } from '../protocol/system-errors.js';
import { BackupChildren } from './backup-children.js';
import { HELP_HINT, USAGE, parseCommandLine, type RunOptions } from './command-line.js';
import { folderSupervisorMachine, listJobs } from './jobs-folder.js';
import { PiscinaJobPool } from './job-pool.js';
import { startInspection } from './inspect.js';
import { wantsLiveLine, watchRun, type RunWatch } from './progress.js';
import type { Server } from './server.js';
import { openStore } from './store-choice.js';
import { removeStaleTemps } from './stale-temps.js';

const JOB_WORKER = new URL('./job-worker.js', import.meta.url).href;

/** One line on stderr. Lines can quote what clients sent: control characters are escaped. */
function report(line: string): void {
  process.stderr.write(`kvs: ${escapeControls(line)}\n`);
}

export async function main(argv: readonly string[]): Promise<number> {
  const commandLine = parseCommandLine(argv);
  if (commandLine.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
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
  return run(options, jobs);
}

/** The reason, and one line pointing at --help; exit status 2. */
function badArguments(reason: string): number {
  report(reason);
  report(HELP_HINT);
  return 2;
}

/** `jobs`: the job files found at start: the batch run's jobs, and no more worker threads than they need. */
async function run(options: RunOptions, jobs: readonly string[]): Promise<number> {
  // First: a store that cannot be reached is one line and exit 1, before anything is started.
  const opened = await openStore(options.store);
  if (!opened.ok) {
    if (opened.badUrl) return badArguments(opened.reason);
    report(opened.reason);
    return 1;
  }
  const store = opened.store;
  try {
    return await runOn(options, store, jobs);
  } finally {
    await store.close();
  }
}

async function runOn(options: RunOptions, store: KvStore, jobs: readonly string[]): Promise<number> {
  for (const name of await removeStaleTemps(options.jobsDir)) report(`removed ${name}: a backup left by a process that is gone`);
  // A worker thread costs a few tens of milliseconds of start-up: start one per job found, up to
  // max_threads (piscina starts more on demand, for jobs submitted later in server mode).
  const pool = new Piscina({
    filename: JOB_WORKER,
    minThreads: Math.min(options.threads, availableParallelism(), jobs.length),
    maxThreads: options.threads,
    idleTimeout: 60_000,
  });
  // Forked when the first BACKUP is written, not ahead of need: most runs have none.
  const children = new BackupChildren();
  const inspection = await startInspection(options.inspect, report);
  // The folder is listed once and the supervisor runs that list: in batch mode the list main()
  // made; in server mode the server's, made as its watch begins (see startServer), so that no file
  // is missed or run twice between the two.
  let initialJobs: readonly string[] = jobs;
  const machine = folderSupervisorMachine.provide({ actors: { listJobs: fromPromise<string[], string>(async () => [...initialJobs]) } });
  const supervisor = createActor(machine, {
    inspect: inspection.inspect,
    input: {
      jobsDir: options.jobsDir,
      pool: new PiscinaJobPool(pool),
      store,
      compat: options.compat,
      maxBackups: options.backups,
      backupWriter: children,
      serve: options.mode === 'server',
      report,
    },
  });
  // Made when the supervisor starts: a server that could not start has no run to sum up.
  let watch: RunWatch | null = null;

  let server: Server | null = null;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      report('interrupted twice: exiting now');
      // process.exit() would join the worker threads, and one blocked in a system call never
      // joins: die of the signal itself instead (the shell sees 130 for SIGINT, 143 for SIGTERM),
      // taking the backups under way with us (their temporary files are removed by the next run).
      children.killAll();
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      process.kill(process.pid, signal);
      return;
    }
    interrupted = true;
    report('stopping: finishing the commands under way and the backups in progress');
    supervisor.send({ type: 'supervisor.stop' });
    void server?.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The store gone (Redis): the jobs under way fail naming it, nothing more is started, the
  // server stops taking clients, and the run exits 1 once the backups under way have ended.
  let storeLost = false;
  const stopWatchingStore = store.onFailure((error) => {
    storeLost = true;
    report(`${error.message}: stopping: the jobs under way fail, no more jobs or clients are taken`);
    supervisor.send({ type: 'supervisor.stop' });
    void server?.close();
  });

  try {
    if (options.mode === 'server') {
      try {
        // Started before the supervisor lists the folder, so that no job file falls between the two.
        // The server's modules are loaded only in server mode: a batch run does without them.
        const { startServer } = await import('./server.js');
        server = await startServer({
          store,
          registerFifo: options.registerFifo!,
          sessions: options.sessions,
          compat: options.compat,
          jobsDir: options.jobsDir,
          submitJob: (jobPath) => supervisor.send({ type: 'job.submit', jobPath }),
          log: report,
          inspect: inspection.inspect,
        });
      } catch (error) {
        report(errorMessage(error));
        return 1;
      }
      initialJobs = server.initialJobs;
      if (!options.quiet) report(`serving clients on ${options.registerFifo!} (${options.sessions} session${options.sessions === 1 ? '' : 's'})`);
      if (interrupted || storeLost) void server.close();
    }
    watch = watchRun(supervisor, {
      store,
      quiet: options.quiet,
      live: wantsLiveLine(options.mode, options.quiet, process.stdout, process.stderr),
      eachJob: options.mode === 'server',
    });
    supervisor.start();
    if (interrupted) supervisor.send({ type: 'supervisor.stop' });
    const output: SupervisorOutput = await toPromise(supervisor);
    await server?.close();
    if (storeLost) return 1;
    // Server mode ends only on a signal, and then cleanly; a failed job was reported when it failed.
    if (options.mode === 'server') return 0;
    const failed = output.results.some((result) => result.error !== undefined) || output.backups.failures.length > 0;
    return interrupted ? 130 : failed ? 1 : 0;
  } finally {
    stopWatchingStore();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    watch?.finish();
    children.close();
    await pool.destroy();
    await inspection.close();
  }
}
