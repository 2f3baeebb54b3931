/**
 * `npm run soak -- --minutes N` (default 2; not part of `npm test`): one real server for N minutes
 * with jobs dropped into its folder all the time (writes, deletes, reads, SHOWs, backups) while
 * clients connect, subscribe, read their notifications, unsubscribe, disconnect or get `kill -9`
 * at random, and SIGUSR1 ends every session now and then. Then it checks and prints: the server
 * stayed up and exits 0 on SIGTERM; its descriptors and RSS at the start, the peak and the end;
 * no FIFO or temporary file left; every `.bck` a complete sorted SHOW text; every `.out` complete;
 * and every client saw the key `seq` (written 1, 2, 3... by one job at a time) in order with no
 * value skipped while it was subscribed. Exits 1 if any check fails. Everything it starts is
 * stopped, and its folder removed, also on failure or Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../protocol/guards.js';
import { hasReader, removeFileSync } from '../runtime/os/fifo.js';

/** The checkout: this file is compiled to dist/scripts/; runtime/*.js are the launchers. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'runtime', 'main.js');
const CLIENT = join(ROOT, 'runtime', 'client.js');

function minutesOption(): number {
  const at = process.argv.indexOf('--minutes');
  if (at < 0) return 2;
  const value = Number(process.argv[at + 1]);
  if (!(value > 0)) {
    process.stderr.write(`soak: --minutes needs a positive number, not '${process.argv[at + 1] ?? ''}'\n`);
    process.exit(2);
  }
  return value;
}

const minutes = minutesOption();
const runMs = minutes * 60_000;
const CLIENT_LOOPS = 3;
const SESSIONS = 4;
const RANDOM_KEYS = 40;
const SEQ_PER_JOB = 100;
const MAX_JOBS_IN_FLIGHT = 12;
const USR1_EVERY_MS = 15_000;

const failures: string[] = [];
const fail = (message: string): void => void failures.push(message);
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

const work = mkdtempSync(join(tmpdir(), 'kvs-soak-'));
const jobsDir = join(work, 'jobs');
mkdirSync(jobsDir);
const registerFifo = join(work, 'register_fifo');
const idPrefix = `soak${process.pid}c`;

let server: ChildProcess | null = null;
let serverStderr = '';
const clients = new Set<ChildProcess>();

function cleanup(): void {
  for (const c of clients) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (server !== null && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  for (const name of readdirSync('/tmp')) if (/^(req|resp|notif)soak/.test(name) && name.includes(idPrefix)) removeFileSync(join('/tmp', name));
  rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

/** Polls until `probe` holds; false after the deadline. */
async function until(probe: () => boolean | Promise<boolean>, deadlineMs: number, everyMs = 20): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await probe()) return true;
    await sleep(everyMs);
  }
  return probe();
}

// ---- jobs ----------------------------------------------------------------------------------

interface Dropped {
  readonly name: string;
  readonly backups: number;
  readonly commands: number;
}
const dropped: Dropped[] = [];
const doneJobs = () => (serverStderr.match(/ done:/g) ?? []).length;
const isDone = (name: string) => serverStderr.includes(`kvs: ${join(jobsDir, `${name}.job`)} done:`);

/** Written under another name, then renamed, so the server never sees half a job. */
function dropJob(name: string, lines: readonly string[]): void {
  const backups = lines.filter((l) => l === 'BACKUP').length;
  const part = join(jobsDir, `${name}.part`);
  writeFileSync(part, `${lines.join('\n')}\nREAD [end]\n`);
  renameSync(part, join(jobsDir, `${name}.job`));
  dropped.push({ name, backups, commands: lines.length + 1 });
}

function randomJob(n: number): string[] {
  const lines: string[] = [];
  for (let i = between(4, 14); i > 0; i--) {
    const keys = () => Array.from({ length: between(1, 4) }, () => `r${between(0, RANDOM_KEYS - 1)}`);
    const roll = Math.random();
    if (roll < 0.4) lines.push(`WRITE [${keys().map((k, j) => `(${k},v${n}x${i}y${j})`).join('')}]`);
    else if (roll < 0.6) lines.push(`DELETE [${keys().join(',')}]`);
    else if (roll < 0.75) lines.push(`READ [${keys().join(',')}]`);
    else if (roll < 0.85) lines.push('SHOW');
    else if (roll < 0.95) lines.push('BACKUP');
    else lines.push(`WAIT ${between(0, 5)}`);
  }
  return lines;
}

let seqWritten = 0;
async function seqLoop(stop: () => boolean): Promise<void> {
  for (let n = 1; !stop(); n++) {
    const lines: string[] = [];
    for (let i = 0; i < SEQ_PER_JOB; i++) lines.push(`WRITE [(seq,${seqWritten + i + 1})]`, 'WAIT 10');
    dropJob(`seq${n}`, lines);
    seqWritten += SEQ_PER_JOB;
    // One seq job at a time: the key's whole history is 1, 2, 3... in that order.
    if (!(await until(() => isDone(`seq${n}`), 120_000, 50))) return fail(`seq${n}.job not done after 120 s`);
  }
}

async function jobLoop(stop: () => boolean): Promise<void> {
  for (let n = 1; !stop(); n++) {
    if (dropped.length - doneJobs() < MAX_JOBS_IN_FLIGHT) dropJob(`r${n}`, randomJob(n));
    await sleep(between(50, 250));
  }
}

// ---- clients -------------------------------------------------------------------------------

const counts = { clients: 0, connected: 0, killed: 0, disconnected: 0, endedByServer: 0, notifications: 0, sawSeq: 0, usr1: 0 };

function checkSeq(id: string, stdout: string): void {
  // Complete lines only: a client killed mid-write may leave half a line.
  const lines = stdout.split('\n').slice(0, -1);
  const values = lines.map((l) => /^\(seq,(\d+)\)$/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
  counts.notifications += lines.filter((l) => l.startsWith('(')).length;
  if (values.length > 1) counts.sawSeq++;
  for (let i = 1; i < values.length; i++) {
    if (values[i] !== values[i - 1]! + 1) {
      fail(`client ${id} saw seq ${values[i - 1]} then ${values[i]}: a value skipped or out of order`);
      return;
    }
  }
}

async function oneClient(n: number): Promise<void> {
  const id = `${idPrefix}${n}`;
  counts.clients++;
  const child = spawn(process.execPath, [CLIENT, id, registerFifo], { stdio: ['pipe', 'pipe', 'pipe'] });
  clients.add(child);
  child.stdin!.on('error', () => {});
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('latin1').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    if (!(await until(() => stdout.includes('operation: connect') || !alive(), 60_000))) {
      fail(`client ${id} not connected after 60 s (stderr: ${stderr})`);
      child.kill('SIGKILL');
      return;
    }
    if (!alive()) return void counts.endedByServer++;
    counts.connected++;
    child.stdin!.write(`SUBSCRIBE seq\nSUBSCRIBE r${between(0, RANDOM_KEYS - 1)}\n`);
    await sleep(between(300, 3000));
    if (!alive()) {
      counts.endedByServer++;
    } else if (Math.random() < 0.4) {
      child.kill('SIGKILL');
      counts.killed++;
    } else {
      child.stdin!.write('UNSUBSCRIBE seq\nDISCONNECT\n');
      child.stdin!.end();
      if (!(await until(() => !alive(), 30_000))) {
        fail(`client ${id} still running 30 s after DISCONNECT (stdout tail: ${stdout.slice(-200)})`);
        child.kill('SIGKILL');
      } else if (child.exitCode === 0) counts.disconnected++;
      else counts.endedByServer++;
    }
  } finally {
    if (alive()) child.kill('SIGKILL');
    await exited;
    clients.delete(child);
    checkSeq(id, stdout);
    // A client killed with -9 cannot remove its FIFOs; the others must have removed theirs.
    const left = [`/tmp/req${id}`, `/tmp/resp${id}`, `/tmp/notif${id}`].filter((p) => existsSync(p));
    if (child.signalCode === 'SIGKILL') for (const p of left) removeFileSync(p);
    else if (left.length > 0) fail(`client ${id} (exit ${child.exitCode}) left ${left.join(', ')}`);
  }
}

let clientNumber = 0;
async function clientLoop(stop: () => boolean): Promise<void> {
  while (!stop()) await oneClient(++clientNumber);
}

// ---- the server's descriptors and memory ---------------------------------------------------

interface Sample {
  readonly fds: number;
  readonly rssMb: number;
}
/** What the process's descriptors point at (paths, `pipe:[...]`, `socket:[...]`...). */
async function descriptorTargets(pid: number): Promise<string[]> {
  const fds = await readdir(`/proc/${pid}/fd`);
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return targets.map((target) => target.replace(/ \(deleted\)$/, '')).filter((target) => target !== '');
}

async function sample(pid: number): Promise<Sample> {
  const fds = (await readdir(`/proc/${pid}/fd`)).length;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { fds, rssMb: Number(rss?.[1] ?? 0) / 1024 };
}

// ---- the run -------------------------------------------------------------------------------

function sortedShowText(text: string): string | null {
  if (text !== '' && !text.endsWith('\n')) return 'does not end with a newline';
  const lines = text.split('\n').slice(0, -1);
  let previous: string | null = null;
  for (const line of lines) {
    const m = /^\(([^,()[\] ]+),([^,()[\] ]+)\)$/.exec(line);
    if (m === null) return `a line that is not a pair: ${JSON.stringify(line)}`;
    if (previous !== null && !(Buffer.compare(Buffer.from(previous, 'latin1'), Buffer.from(m[1]!, 'latin1')) < 0)) return `keys not sorted: ${previous} before ${m[1]}`;
    previous = m[1]!;
  }
  return null;
}

async function main(): Promise<void> {
  const started = Date.now();
  server = spawn(process.execPath, [MAIN, jobsDir, '2', '2', registerFifo, '--sessions', String(SESSIONS)], { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr!.setEncoding('utf8').on('data', (d: string) => (serverStderr += d));
  const pid = server.pid!;
  const serverAlive = () => server!.exitCode === null && server!.signalCode === null;
  dropJob('seq0', ['WRITE [(seq,0)]']);
  if (!(await until(async () => !serverAlive() || (existsSync(registerFifo) && (await hasReader(registerFifo).catch(() => false))), 60_000))) {
    throw new Error(`the server did not open ${registerFifo} in 60 s (stderr: ${serverStderr})`);
  }
  if (!serverAlive()) throw new Error(`the server exited at start: ${serverStderr}`);
  await until(() => isDone('seq0'), 60_000);
  const start = await sample(pid);
  let peak = start;
  const deadline = Date.now() + runMs;
  const stop = () => Date.now() >= deadline || !serverAlive();
  const monitor = (async () => {
    let lastUsr1 = Date.now();
    while (!stop()) {
      const now = await sample(pid).catch(() => null);
      if (now !== null) peak = { fds: Math.max(peak.fds, now.fds), rssMb: Math.max(peak.rssMb, now.rssMb) };
      if (Date.now() - lastUsr1 >= USR1_EVERY_MS) {
        server!.kill('SIGUSR1');
        counts.usr1++;
        lastUsr1 = Date.now();
      }
      await sleep(250);
    }
  })();
  await Promise.all([seqLoop(stop), jobLoop(stop), ...Array.from({ length: CLIENT_LOOPS }, () => clientLoop(stop)), monitor]);
  if (!serverAlive()) fail(`the server died during the run (exit ${server.exitCode ?? server.signalCode}): ${serverStderr.slice(-2000)}`);

  // Every job dropped ends; then the server's descriptors settle back.
  if (!(await until(() => doneJobs() >= dropped.length, 180_000, 100))) fail(`${dropped.length - doneJobs()} jobs not done 180 s after the run`);
  // A leak is a descriptor still on a client's FIFO or on a file of the jobs folder once every
  // client and job is done. The count alone may grow: threads and backup children start lazily.
  const held = async () =>
    (await descriptorTargets(pid)).filter((target) => target.startsWith(jobsDir) || target.replace(/^\/tmp\//, '').replace(/^(req|resp|notif)/, '').startsWith(idPrefix));
  let leaked: string[] = [];
  await until(async () => (leaked = await held()).length === 0, 15_000, 200);
  const end = await sample(pid);
  peak = { fds: Math.max(peak.fds, end.fds), rssMb: Math.max(peak.rssMb, end.rssMb) };
  if (leaked.length > 0) fail(`descriptors left open on a client's FIFO or a job's file: ${leaked.join(', ')}`);
  if (end.rssMb > 2 * start.rssMb) fail(`RSS more than doubled: ${start.rssMb.toFixed(0)} MB at the start, ${end.rssMb.toFixed(0)} MB at the end`);

  server.kill('SIGTERM');
  if (!(await until(() => !serverAlive(), 30_000))) fail('the server did not exit within 30 s of SIGTERM');
  else if (server.exitCode !== 0) fail(`the server exited with ${server.exitCode ?? server.signalCode} on SIGTERM: ${serverStderr.slice(-2000)}`);
  if (existsSync(registerFifo)) fail(`the registration FIFO ${registerFifo} is left`);

  // Files: every .out complete, every .bck a sorted SHOW text, nothing temporary left.
  const files = readdirSync(jobsDir);
  let backups = 0;
  for (const job of dropped) {
    const out = readFileSync(join(jobsDir, `${job.name}.out`), 'latin1');
    if (!out.endsWith('[(end,KVSERROR)]\n')) fail(`${job.name}.out is not complete (ends ${JSON.stringify(out.slice(-60))})`);
    for (let b = 1; b <= job.backups; b++) {
      const path = join(jobsDir, `${job.name}-${b}.bck`);
      if (!existsSync(path)) {
        fail(`${job.name}-${b}.bck is missing`);
        continue;
      }
      backups++;
      const problem = sortedShowText(readFileSync(path, 'latin1'));
      if (problem !== null) fail(`${job.name}-${b}.bck: ${problem}`);
    }
  }
  const stray = files.filter((f) => !/^(r|seq)\d+(\.job|\.out|-\d+\.bck)$/.test(f));
  if (stray.length > 0) fail(`files left in the jobs folder: ${stray.join(', ')}`);
  const strayFifos = readdirSync('/tmp').filter((f) => /^(req|resp|notif)/.test(f) && f.includes(idPrefix));
  if (strayFifos.length > 0) fail(`client FIFOs left in /tmp: ${strayFifos.join(', ')}`);
  const usr1Lines = serverStderr.match(/SIGUSR1: ended (\d+) client session/g) ?? [];
  // The server replaces a session that failed, so only its log shows the bug.
  for (const line of serverStderr.match(/^.*session \d+ failed.*$/gm) ?? []) fail(`the server said: ${line}`);

  const seconds = (Date.now() - started) / 1000;
  const commands = dropped.reduce((sum, j) => sum + j.commands, 0);
  process.stdout.write(
    [
      `soak: ${minutes} min of load, ${seconds.toFixed(0)} s in all`,
      `jobs: ${dropped.length} dropped and done, ${commands} commands, ${backups} backups checked, key seq written 0..${seqWritten}`,
      `clients: ${counts.clients} started, ${counts.connected} connected, ${counts.disconnected} disconnected, ${counts.killed} killed -9, ${counts.endedByServer} ended by the server; ${counts.notifications} notifications read, ${counts.sawSeq} clients saw seq change, all in order with none skipped: ${failures.some((f) => f.includes('seq')) ? 'NO' : 'yes'}`,
      `SIGUSR1: ${counts.usr1} sent, ${usr1Lines.length} logged by the server`,
      `server descriptors: ${start.fds} start, ${peak.fds} peak, ${end.fds} end`,
      `server RSS: ${start.rssMb.toFixed(1)} MB start, ${peak.rssMb.toFixed(1)} MB peak, ${end.rssMb.toFixed(1)} MB end`,
      failures.length === 0 ? 'soak: all checks passed' : `soak: ${failures.length} check(s) failed:\n  ${failures.slice(0, 20).join('\n  ')}`,
      '',
    ].join('\n'),
  );
}

try {
  await main();
} catch (error) {
  fail(errorMessage(error));
  process.stderr.write(`soak: ${failures.at(-1)}\n`);
} finally {
  cleanup();
}
process.exit(failures.length === 0 ? 0 : 1);
