/**
 * Server mode wired exactly as runtime/main.ts is to wire it (real Store, Supervisor, piscina
 * pool and backup children, plus startServer), for the e2e tests until main.ts calls startServer
 * itself. Same command line as `node runtime/main.js <jobs_dir> <max_threads> <max_backups> <fifo>`.
 */
process.on('SIGUSR1', () => {});

const { availableParallelism } = await import('node:os');
const { Piscina } = await import('piscina');
const { createActor, toPromise } = await import('xstate');
const { Store } = await import('../../actors/store.js');
const { supervisorMachine } = await import('../../actors/supervisor.js');
const { BackupChildren } = await import('../../runtime/backup-children.js');
const { parseCommandLine } = await import('../../runtime/command-line.js');
const { startServer } = await import('../../runtime/server.js');

const report = (line: string) => process.stderr.write(`kvs: ${line}\n`);
const commandLine = parseCommandLine(process.argv.slice(2));
if (commandLine.kind !== 'run' || commandLine.options.registerFifo === null) {
  report('usage: server-main <jobs_dir> <max_threads> <max_backups> <register_fifo> [--sessions N] [--compat=X]');
  process.exit(2);
}
const options = commandLine.options;
const store = new Store();
const pool = new Piscina({
  filename: new URL('../../runtime/job-worker.js', import.meta.url).href,
  minThreads: Math.min(options.threads, availableParallelism()),
  maxThreads: options.threads,
});
const children = new BackupChildren(1);
const supervisor = createActor(supervisorMachine, {
  input: { jobsDir: options.jobsDir, pool, store, compat: options.compat, maxBackups: options.backups, backupWriter: children, serve: true, report },
});
let server;
try {
  // Started before the supervisor scans the folder, so no job file falls between the two.
  server = await startServer({
    store,
    registerFifo: options.registerFifo!,
    sessions: options.sessions,
    compat: options.compat,
    jobsDir: options.jobsDir,
    submitJob: (jobPath) => supervisor.send({ type: 'job.submit', jobPath }),
    log: report,
  });
} catch (error) {
  report(error instanceof Error ? error.message : String(error));
  children.close();
  await pool.destroy();
  process.exit(1);
}
const stop = () => {
  void server.close().then(() => supervisor.send({ type: 'supervisor.stop' }));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
supervisor.start();
await toPromise(supervisor);
children.close();
await pool.destroy();
process.exitCode = 0;
