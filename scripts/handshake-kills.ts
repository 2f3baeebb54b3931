/**
 * `node dist/scripts/handshake-kills.js [--clients N] [--max-us U]` (defaults 200 and 3000; not part
 * of `npm test`): one real server with 4 sessions and KVS_DEBUG=links, and N clients
 * (runtime/client.js), each killed with SIGKILL at a random moment around its handshake: U
 * microseconds at most after the server's trace says a session took its connect request, so the
 * kills land while the server opens its FIFOs, answers, and looks for the client's writer. Then it
 * prints how many sessions failed and which descriptors on a killed client's FIFO the server still
 * holds once every handshake deadline has passed; exits 1 if any. Everything it starts is stopped
 * and every file it made removed, also on failure or Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { hasReader, removeFileSync } from '../runtime/os/fifo.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'runtime', 'main.js');
const CLIENT = join(ROOT, 'runtime', 'client.js');
const SESSIONS = 4;
/** Clients started at once: fewer than the sessions, so requests are taken as they arrive. */
const IN_FLIGHT = 3;
/** Past the server's handshake deadlines (1.5 s each) with room for a loaded machine. */
const SETTLE_MS = 15_000;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`handshake-kills: ${name} needs a whole number, not '${process.argv[at + 1] ?? ''}'\n`);
    process.exit(2);
  }
  return value;
}

const clientCount = option('--clients', 200);
const maxUs = option('--max-us', 3000);
const work = mkdtempSync(join(tmpdir(), 'kvs-kills-'));
const jobsDir = join(work, 'jobs');
mkdirSync(jobsDir);
const registerFifo = join(work, 'register_fifo');
const ids: string[] = [];
const fifosOf = (id: string) => [`/tmp/req${id}`, `/tmp/resp${id}`, `/tmp/notif${id}`];
const live = new Set<ChildProcess>();
let server: ChildProcess | null = null;
let serverStderr = '';
/** Called with each line the server writes on stderr. */
const lineWatchers = new Set<(line: string) => void>();

function cleanup(): void {
  for (const child of live) child.kill('SIGKILL');
  if (server !== null && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  for (const id of ids) for (const path of fifosOf(id)) removeFileSync(path);
  rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Busy-waits `us` microseconds: timers are too coarse for the window aimed at. */
function spin(us: number): void {
  const end = process.hrtime.bigint() + BigInt(us) * 1000n;
  while (process.hrtime.bigint() < end);
}

/** Starts a client and kills it `us` µs after a session takes its request; false if it ended first. */
async function killAroundHandshake(id: string, us: number): Promise<boolean> {
  const taken = `(/tmp/req${id}): takes the connect request`;
  let onLine: (line: string) => void = () => {};
  const seen = new Promise<void>((resolve) => {
    onLine = (line) => line.includes(taken) && resolve();
    lineWatchers.add(onLine);
  });
  const child = spawn(process.execPath, [CLIENT, id, registerFifo], { stdio: ['pipe', 'ignore', 'ignore'] });
  live.add(child);
  const outcome = await Promise.race([seen.then(() => 'taken' as const), exited(child).then(() => 'ended' as const)]);
  lineWatchers.delete(onLine);
  if (outcome === 'taken') spin(us);
  child.kill('SIGKILL');
  await exited(child);
  live.delete(child);
  return outcome === 'taken';
}

async function serverHolds(): Promise<string[]> {
  const dead = new Set(ids.flatMap(fifosOf));
  const held: string[] = [];
  for (const name of await readdir(`/proc/${server!.pid}/fd`)) {
    const target = await readlink(`/proc/${server!.pid}/fd/${name}`).catch(() => null);
    if (target !== null && dead.has(target.replace(/ \(deleted\)$/, ''))) held.push(`${name}->${target}`);
  }
  return held;
}

async function main(): Promise<number> {
  server = spawn(process.execPath, [MAIN, jobsDir, '1', '1', registerFifo, '--sessions', String(SESSIONS)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KVS_DEBUG: 'links' },
  });
  let partial = '';
  server.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    serverStderr += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) for (const watch of lineWatchers) watch(line);
  });
  const ready = Date.now() + 30_000;
  while (!(await hasReader(registerFifo).catch(() => false))) {
    if (Date.now() > ready || server.exitCode !== null) throw new Error(`the server did not start: ${serverStderr}`);
    await sleep(20);
  }
  let endedFirst = 0;
  let next = 0;
  const worker = async () => {
    while (next < clientCount) {
      const id = `hk${process.pid}x${next++}`;
      ids.push(id);
      if (!(await killAroundHandshake(id, Math.floor(Math.random() * (maxUs + 1))))) endedFirst++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const settle = Date.now() + SETTLE_MS;
  let held = await serverHolds();
  while (held.length > 0 && Date.now() < settle) {
    await sleep(100);
    held = await serverHolds();
  }
  const failed = serverStderr.split('\n').filter((line) => /session \d+ failed/.test(line));
  // Where each killed client's handshake ended, as the server's trace tells it.
  const ends = new Map<string, number>();
  for (const id of ids) {
    const step = ['joined', 'not joined', 'not opened'].find((what) => serverStderr.includes(`(/tmp/req${id}): ${what}`)) ?? 'never taken';
    ends.set(step, (ends.get(step) ?? 0) + 1);
  }
  process.stdout.write(`clients: ${clientCount - endedFirst} killed with SIGKILL 0-${maxUs} µs after a session took the request, ${endedFirst} ended before\n`);
  process.stdout.write(`handshakes, as the server saw them: ${[...ends].map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
  process.stdout.write(`sessions failed: ${failed.length}${failed.length > 0 ? ` (${failed[0]!.replace(/^kvs: /, '')})` : ''}\n`);
  process.stdout.write(`descriptors on a killed client's FIFO still open ${SETTLE_MS / 1000} s later: ${held.length}${held.length > 0 ? ` (${held.join(' ')})` : ''}\n`);
  // The server's trace of each client still held, to tell where its link stopped.
  for (const id of ids.filter((id) => held.some((fd) => fifosOf(id).some((path) => fd.endsWith(`->${path}`))))) {
    const mine = new RegExp(`/tmp/(req|resp|notif)${id}(\\)|:)`);
    for (const line of serverStderr.split('\n').filter((line) => mine.test(line))) process.stdout.write(`  ${line}\n`);
  }
  return failed.length === 0 && held.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`handshake-kills: ${error instanceof Error ? error.message : String(error)}\n`);
    cleanup();
    process.exit(1);
  },
);
