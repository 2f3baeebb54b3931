/**
 * Fixtures that start real server and client processes on real FIFOs, and always stop them and
 * remove their files in t.teardown, even when the test fails.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ExecutionContext } from 'ava';
import { hasReader, removeFileSync } from '../../runtime/os/fifo.js';
import { DEADLINE_MS, PROJECT_ROOT, tempDir, waitUntil, waitUntilSeen } from './fixtures.js';
import { SERVER_SLOTS } from './slots.js';

export { DEADLINE_MS, tempDir, waitUntil, waitUntilSeen } from './fixtures.js';

/** The checkout, without a trailing slash. */
export const ROOT = resolve(PROJECT_ROOT);
export const CLIENT = join(ROOT, 'runtime/client.js');
export const RAW_CLIENT = join(ROOT, 'test/helpers/raw_client.py');

export const SERVER_ENTRY = join(ROOT, 'runtime/main.js');

let counter = 0;
/** A client id unique across concurrent test processes; short enough for a 40-byte path. */
export function uniqueId(): string {
  return `t${process.pid}x${++counter}`;
}

export function clientFifos(id: string): string[] {
  return [`/tmp/req${id}`, `/tmp/resp${id}`, `/tmp/notif${id}`];
}

/** A child process with its output collected, and a promise of its exit code. */
export class Proc {
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('latin1').on('data', (d: string) => (this.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exitCode === null && this.signal === null;
  }

  lines(): string[] {
    return this.stdout.split('\n').filter((l) => l !== '');
  }

  waitForOutput(text: string, timeoutMs = DEADLINE_MS): Promise<void> {
    return waitUntil(`'${text}' on stdout of pid ${this.pid} (stdout so far: ${JSON.stringify(this.stdout)}, stderr: ${JSON.stringify(this.stderr)})`, () => this.stdout.includes(text), timeoutMs);
  }

  async waitForExit(timeoutMs = DEADLINE_MS): Promise<number | null> {
    await waitUntilSeen(`pid ${this.pid} to exit`, () => ({ ok: !this.alive, seen: `stderr: ${JSON.stringify(this.stderr)}` }), timeoutMs);
    return this.exitCode;
  }

  /** Stops the process if still running: SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export type ServerFixture = Proc & { dir: string; fifo: string };

export async function startServer(
  t: ExecutionContext,
  options: { sessions?: number; compat?: 'seed' | 'course'; jobs?: Record<string, string>; threads?: number; args?: readonly string[] } = {},
): Promise<ServerFixture> {
  await SERVER_SLOTS.holdFor(t);
  const dir = await tempDir(t);
  const jobsDir = join(dir, 'jobs');
  await mkdir(jobsDir);
  for (const [name, text] of Object.entries(options.jobs ?? {})) await writeFile(join(jobsDir, name), text);
  const fifo = join(dir, 'register_fifo');
  const args = [SERVER_ENTRY, jobsDir, String(options.threads ?? 2), '1', fifo, '--sessions', String(options.sessions ?? 4)];
  if (options.compat !== undefined) args.push(`--compat=${options.compat}`);
  args.push(...(options.args ?? []));
  const proc = new Proc(spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(() => proc.stop());
  // Ready when the registration FIFO exists with the server as its reader. Reported on timeout:
  // whether the process was alive, whether the FIFO existed, and what the server wrote.
  await waitUntilSeen(`the server (pid ${proc.pid}) to open ${fifo}`, async () => {
    if (!proc.alive) throw new Error(`the server exited with ${proc.exitCode ?? proc.signal} before opening ${fifo}: ${proc.stderr}`);
    const exists = existsSync(fifo);
    const reading = exists && (await hasReader(fifo).catch(() => false));
    return { ok: reading, seen: `alive, FIFO ${exists ? (reading ? 'open' : 'created, no reader yet') : 'not created'}, stderr ${JSON.stringify(proc.stderr)}` };
  });
  // The server takes clients while its first jobs still run: wait for them, so that a test's
  // clients find the keys those jobs write.
  for (const name of Object.keys(options.jobs ?? {})) {
    await waitUntilSeen(`${name} to be done`, () => ({ ok: proc.stderr.includes(`kvs: ${join(jobsDir, name)} done:`), seen: `stderr ${JSON.stringify(proc.stderr)}` }));
  }
  return Object.assign(proc, { dir: jobsDir, fifo });
}

export type ClientFixture = Proc & {
  id: string;
  send(line: string): void;
  end(): void;
};

/** Starts `node runtime/client.js <id> <fifo>` with a pipe on stdin; waits for its connect response. */
export async function startClient(
  t: ExecutionContext,
  fifo: string,
  options: { id?: string; compat?: 'seed' | 'course'; awaitConnect?: boolean; input?: string } = {},
): Promise<ClientFixture> {
  const id = options.id ?? uniqueId();
  const args = [CLIENT, id, fifo];
  if (options.compat !== undefined) args.push(`--compat=${options.compat}`);
  const proc = new Proc(spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  proc.child.stdin?.on('error', () => {});
  t.teardown(async () => {
    if (proc.alive) proc.child.kill('SIGKILL');
    await proc.exited;
    for (const path of clientFifos(id)) removeFileSync(path);
  });
  const client = Object.assign(proc, {
    id,
    send: (line: string) => void proc.child.stdin?.write(`${line}\n`),
    end: () => void proc.child.stdin?.end(),
  });
  if (options.input !== undefined) client.child.stdin?.write(options.input);
  if (options.awaitConnect !== false) await client.waitForOutput('Server returned 0 for operation: connect');
  return client;
}

/** Writes a job file into the watched folder as the seed's quick start does (`echo ... > x.job`). */
export async function writeJob(jobsDir: string, name: string, text: string): Promise<void> {
  await writeFile(join(jobsDir, name), text);
}

export async function openFdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** A process's open descriptors with what each points to (`/tmp/reqX`, `pipe:[123]`, `anon_inode:[eventfd]`...). */
export async function openFds(pid: number): Promise<Array<{ fd: number; target: string }>> {
  const found: Array<{ fd: number; target: string }> = [];
  for (const name of await readdir(`/proc/${pid}/fd`)) {
    // A descriptor can close between the listing and the readlink.
    const target = await readlink(`/proc/${pid}/fd/${name}`).catch(() => null);
    if (target !== null) found.push({ fd: Number(name), target });
  }
  return found;
}

/** Sends a request and waits for its response line, counted so repeated requests are told apart. */
export async function ask(client: ClientFixture, line: string, op: string): Promise<string> {
  const pattern = new RegExp(`Server returned (\\d+) for operation: ${op}\\n`, 'g');
  const before = [...client.stdout.matchAll(pattern)].length;
  client.send(line);
  await waitUntilSeen(`a response to '${line}'`, () => ({ ok: [...client.stdout.matchAll(pattern)].length > before, seen: `stdout ${JSON.stringify(client.stdout)}, stderr ${JSON.stringify(client.stderr)}` }));
  return [...client.stdout.matchAll(pattern)][before]![1]!;
}

export type RawClientFixture = Proc & { send(line: string): void; paths: string[] };

/** The python3 raw client (test/helpers/raw_client.py), which opens its FIFOs in the C clients' order. */
export function startRawClient(t: ExecutionContext, fifo: string, options: { paths?: string[]; mkfifo?: boolean } = {}): RawClientFixture {
  const id = uniqueId();
  const paths = options.paths ?? [`/tmp/rreq${id}`, `/tmp/rresp${id}`, `/tmp/rnotif${id}`];
  const args = [RAW_CLIENT, fifo, ...paths];
  if (options.mkfifo === false) args.push('--no-mkfifo');
  const proc = new Proc(spawn('python3', args, { stdio: ['pipe', 'pipe', 'pipe'] }));
  proc.child.stdin?.on('error', () => {});
  t.teardown(async () => {
    if (proc.alive) proc.child.kill('SIGKILL');
    await proc.exited;
    if (options.paths === undefined) for (const path of paths) removeFileSync(path);
  });
  return Object.assign(proc, { paths, send: (line: string) => void proc.child.stdin?.write(`${line}\n`) });
}

/** Waits for the n-th line (counting from 1) of a process's stdout and returns it. */
export async function nthLine(proc: Proc, n: number, timeoutMs = DEADLINE_MS): Promise<string> {
  await waitUntilSeen(`line ${n} of pid ${proc.pid}`, () => ({ ok: proc.lines().length >= n, seen: `stdout ${JSON.stringify(proc.stdout)}, stderr ${JSON.stringify(proc.stderr)}` }), timeoutMs);
  return proc.lines()[n - 1]!;
}
