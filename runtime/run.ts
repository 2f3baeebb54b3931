/**
 * The run itself, loaded by main.ts once the pool's first worker thread is starting: the store,
 * the supervisor and its job actors, the backup children, the server in server mode.
 */
import { constants as osConstants } from 'node:os';
import { createActor, fromPromise, toPromise } from 'xstate';
import { supervisorMachine, type SupervisorOutput } from '../actors/supervisor.js';
import { errorMessage } from '../protocol/guards.js';
import type { KvStore } from '../protocol/store-contract.js';
import { HELP_HINT, type RunOptions } from './cli/command-line.js';
import type { PiscinaJobPool } from './batch/job-pool.js';
import type { Inspection } from './observe/inspect.js';
import { LazyBackupChildren } from './backup/lazy-backups.js';
import { sampleDataFigures, wantsLiveLine, watchRun, type RunWatch } from './observe/progress.js';
import { report } from './cli/report.js';
import type { Server } from './server/server.js';
import { removeStaleTemps } from './backup/stale-temps.js';
import { openStore } from './store/choice.js';

/**
 * The signals that stop a run the graceful way: the commands under way finish, every `.out` is
 * flushed, the backups in progress finish. SIGHUP too: a closed terminal or a dropped ssh session
 * must not lose what ran. A second one exits at once, by that signal.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs the jobs found at start (`jobs`, in name order) on `pool`, and in server mode serves
 * clients and the jobs that come later. Destroys the pool before it returns.
 */
export async function run(options: RunOptions, pool: PiscinaJobPool, jobs: readonly string[]): Promise<number> {
  // First: a store that cannot be reached is one line and exit 1, before anything else is started.
  const opened = await openStore(options.store, report);
  if (!opened.ok) {
    await pool.destroy();
    report(opened.reason);
    if (!opened.badUrl) return 1;
    report(HELP_HINT);
    return 2;
  }
  const store = opened.store;
  try {
    return await runOn(options, pool, jobs, store);
  } finally {
    await store.close();
  }
}

async function runOn(options: RunOptions, pool: PiscinaJobPool, jobs: readonly string[], store: KvStore): Promise<number> {
  // A busy store holds back threads for big jobs past the cores (runtime/batch/job-pool.ts).
  pool.watchStore(() => store.commandsApplied);
  for (const name of await removeStaleTemps(options.jobsDir)) report(`removed ${name}: a backup left by a process that is gone`);
  // Loaded and forked when the first BACKUP is written, not ahead of need: most runs have none.
  const children = new LazyBackupChildren();
  // The inspector's modules only with --inspect.
  const inspection: Inspection =
    options.inspect === null ? { inspect: undefined, showFigures: () => {}, close: async () => {} } : await (await import('./observe/inspect.js')).startInspection(options.inspect, report);
  // The folder is listed once: by main.ts in batch mode; in server mode by the server, as its
  // watch begins (see startServer), so that no job file falls between the listing and the watch.
  let initialJobs: readonly string[] = jobs;
  const machine = supervisorMachine.provide({ actors: { listJobs: fromPromise<string[], string>(async () => [...initialJobs]) } });
  const supervisor = createActor(machine, {
    inspect: inspection.inspect,
    input: {
      jobsDir: options.jobsDir,
      pool,
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

  const stops = new RunStops(options, supervisor, store, children);
  try {
    if (options.mode === 'server') {
      let server: Server;
      try {
        // Started before the supervisor lists the folder, so that no job file falls between the two.
        // The server's modules are loaded only in server mode: a batch run does without them.
        const { startServer } = await import('./server/server.js');
        server = await startServer({
          store,
          registerFifo: options.registerFifo!,
          sessions: options.sessions,
          compat: options.compat,
          jobsDir: options.jobsDir,
          submitJob: (jobPath) => supervisor.send({ type: 'job.submit', jobPath }),
          log: report,
          inspect: inspection.inspect,
          onRegistration: (removeNow) => (stops.removeRegistration = removeNow),
        });
        stops.server = server;
      } catch (error) {
        report(errorMessage(error));
        return 1;
      }
      initialJobs = server.initialJobs;
      if (!options.quiet && !stops.stopped) report(`serving clients on ${options.registerFifo!} (${options.sessions} session${options.sessions === 1 ? '' : 's'})`);
      if (stops.stopped) void server.close();
    }
    watch = watchRun(supervisor, {
      store,
      quiet: options.quiet,
      live: wantsLiveLine(options.mode, options.quiet, process.stdout, process.stderr),
      eachJob: options.mode === 'server',
    });
    supervisor.start();
    inspection.showFigures(sampleDataFigures(supervisor, store));
    if (stops.interrupted !== null) supervisor.send({ type: 'supervisor.stop' });
    const output: SupervisorOutput = await toPromise(supervisor);
    await stops.server?.close();
    if (stops.storeLost) return 1;
    // Server mode ends only on a signal, and then cleanly; a failed job was reported when it failed.
    if (options.mode === 'server') return 0;
    const failed = output.results.some((result) => result.error !== undefined) || output.backups.failures.length > 0;
    // As a shell reports a process killed by a signal: 128 + its number (130 for Ctrl-C).
    return stops.interrupted !== null ? 128 + osConstants.signals[stops.interrupted] : failed ? 1 : 0;
  } finally {
    stops.dispose();
    watch?.finish();
    children.close();
    await pool.destroy();
    await inspection.close();
  }
}

/**
 * What stops a run: a stop signal (the second one exits at once), or the store lost (Redis): the
 * jobs under way fail naming it, nothing more is started, the server stops taking clients, and
 * the run exits 1 once the backups under way have ended.
 */
class RunStops {
  /** The signal that stopped the run, if one did. */
  interrupted: NodeJS.Signals | null = null;
  storeLost = false;
  server: Server | null = null;
  removeRegistration = (): void => undefined;
  private readonly stopWatchingStore: () => void;

  constructor(
    private readonly options: RunOptions,
    private readonly supervisor: { send(event: { type: 'supervisor.stop' }): void },
    store: KvStore,
    private readonly children: LazyBackupChildren,
  ) {
    for (const name of STOP_SIGNALS) process.on(name, this.onSignal);
    this.stopWatchingStore = store.onFailure((error) => {
      this.storeLost = true;
      report(`${error.message}: stopping: the jobs under way fail, no more jobs or clients are taken`);
      this.stop();
    });
  }

  get stopped(): boolean {
    return this.interrupted !== null || this.storeLost;
  }

  dispose(): void {
    this.stopWatchingStore();
    for (const name of STOP_SIGNALS) process.off(name, this.onSignal);
  }

  private stop(): void {
    this.supervisor.send({ type: 'supervisor.stop' });
    void this.server?.close();
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.interrupted !== null) {
      report('interrupted twice: exiting now');
      // process.exit() would join the worker threads, and one blocked in a system call never
      // joins: die of the signal itself instead (the shell sees 128 + its number: 130 for SIGINT),
      // taking the backups under way with us (their temporary files are removed by the next run).
      this.children.killAll();
      // The first signal's close() removes the registration FIFO asynchronously, or has not begun
      // (the server still starting): take it now, if it is still ours.
      try {
        this.removeRegistration();
      } catch (error) {
        report(`removing ${this.options.registerFifo ?? ''} failed: ${errorMessage(error)}`);
      }
      for (const name of STOP_SIGNALS) process.removeAllListeners(name);
      process.kill(process.pid, signal);
      return;
    }
    this.interrupted = signal;
    report(`stopping (${signal}): finishing the commands under way and the backups in progress`);
    this.stop();
  };
}
