/**
 * `check.js server`: the scripted sessions of server-sessions.ts through four pairings, their
 * client on their server, ours on ours, their client on our server and ours on theirs, each a
 * transcript of what every client printed (step by step) and how it ended; each pairing is
 * compared line by line with ours on ours. Every process runs in a process group of its own and is
 * killed with it at the end of its session: a hung server or client is a line of the transcript,
 * never a hang of the checker.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { clientPaths } from '../../protocol/client-commands.js';
import { KVS_MAIN } from './batch-check.js';
import { killGroup, spawnGroup, trackFolder } from './process-groups.js';
import { SESSIONS, START_JOB, WAIT_BEFORE_CHANGES_MS, type Session, type Step } from './server-sessions.js';
import type { RunSettings } from './program-run.js';

const KVS_CLIENT = fileURLToPath(new URL('../../../runtime/client.js', import.meta.url));
/** How often the registration FIFO and the first `.out` are looked for while a server starts. */
const POLL_MS = 20;
/** A server's start may take this long on a loaded machine before it is a finding. */
const START_DEADLINE_MS = 60_000;

export interface ServerOptions extends RunSettings {
  readonly theirServer: string;
  readonly theirClient: string;
}

/** A program's command line, from the jobs folder and FIFO (a server) or id and FIFO (a client). */
type Launch = (first: string, fifo: string) => readonly [string, ...string[]];

export interface Pairing {
  readonly name: string;
  readonly server: 'theirs' | 'ours';
  readonly client: 'theirs' | 'ours';
}

export const REFERENCE: Pairing = { name: 'our client, our server', server: 'ours', client: 'ours' };
export const PAIRINGS: readonly Pairing[] = [
  { name: 'their client, their server', server: 'theirs', client: 'theirs' },
  { name: 'their client, our server', server: 'ours', client: 'theirs' },
  { name: 'our client, their server', server: 'theirs', client: 'ours' },
];

export interface SessionResult {
  readonly session: Session;
  readonly reference: readonly string[];
  readonly pairings: ReadonlyArray<{ readonly pairing: Pairing; readonly transcript: readonly string[]; readonly same: boolean }>;
}

/** How long a client's output may still come after it exited (its pipe drained). */
const OUTPUT_GRACE_MS = 2000;

/** A started client: its stdout as lines, consumed by the steps in order. */
class RunningClient {
  private readonly lines: string[] = [];
  private partial = '';
  private wake: (() => void) | null = null;
  readonly ended: Promise<string>;

  constructor(
    readonly name: string,
    readonly id: string,
    readonly child: ChildProcess,
  ) {
    child.stdout!.setEncoding('latin1').on('data', (text: string) => {
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake?.();
    });
    this.ended = new Promise((resolve) => {
      // Ended once its output is all read ('close'), not at 'exit': the lines a client printed
      // just before it exited can still be in the pipe then (seen on a loaded machine: a
      // DISCONNECT's answer missing from a transcript that ended "exit 0"). A process left in its
      // group could hold the pipe open: a short grace, then it is ended anyway.
      child.once('exit', (code, signal) => {
        killGroup(child);
        const how = signal !== null ? `killed by ${signal}` : `exit ${code}`;
        const done = () => {
          clearTimeout(grace);
          resolve(how);
          this.wake?.();
        };
        const grace = setTimeout(done, OUTPUT_GRACE_MS);
        if (child.stdout === null || child.stdout.readableEnded) done();
        else child.stdout.once('end', done).once('close', done);
      });
      // A program that could not be started has no exit to wait for.
      child.once('error', (error) => {
        resolve(`could not be started: ${error.message}`);
        this.wake?.();
      });
    });
  }

  /** Lines up to and including the first that matches, or every line seen by the deadline and null. */
  async until(pattern: RegExp, deadlineMs: number): Promise<{ lines: string[]; matched: boolean }> {
    const end = Date.now() + deadlineMs;
    let exited = false;
    void this.ended.then(() => (exited = true));
    for (;;) {
      const at = this.lines.findIndex((line) => pattern.test(line));
      if (at >= 0) return { lines: this.lines.splice(0, at + 1), matched: true };
      const left = end - Date.now();
      if (left <= 0 || exited) return { lines: this.lines.splice(0), matched: false };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  rest(): string[] {
    const rest = this.lines.splice(0);
    if (this.partial !== '') rest.push(`${this.partial} (no newline)`);
    this.partial = '';
    return rest;
  }
}

let clientCount = 0;

/** Polls `probe` until it holds, the server exits or the start deadline passes. */
async function waitFor(probe: () => boolean, serverGone: () => boolean): Promise<boolean> {
  const end = Date.now() + START_DEADLINE_MS;
  while (Date.now() < end && !serverGone()) {
    try {
      if (probe()) return true;
    } catch {
      // Not there yet.
    }
    await sleep(POLL_MS);
  }
  return false;
}

/** One session through one pairing: its transcript. */
export async function runSession(session: Session, server: Launch, client: Launch, timeoutMs: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kvs-check-server-'));
  const removeDir = trackFolder(dir);
  const jobsDir = join(dir, 'jobs');
  const fifo = join(dir, 'register');
  const transcript: string[] = [];
  const clients = new Map<string, RunningClient>();
  let serverProcess: ChildProcess | null = null;
  let serverEnded: Promise<void> = Promise.resolve();
  try {
    mkdirSync(jobsDir);
    for (const [name, text] of Object.entries(session.jobs)) writeFileSync(join(jobsDir, name), text, 'latin1');
    const [command, ...args] = server(jobsDir, fifo);
    serverProcess = spawnGroup(command, args, { stdio: 'ignore' });
    serverEnded = new Promise<void>((resolve) => {
      serverProcess!.once('exit', () => resolve());
      serverProcess!.once('error', () => resolve());
    });
    let serverGone = false;
    void serverEnded.then(() => (serverGone = true));
    if (!(await waitFor(() => statSync(fifo).isFIFO(), () => serverGone))) {
      transcript.push('server: no registration FIFO made');
      return transcript;
    }
    const startOut = join(jobsDir, START_JOB.replace(/\.job$/, '.out'));
    if (!(await waitFor(() => statSync(startOut).size > 0, () => serverGone))) {
      transcript.push(`server: ${START_JOB} wrote nothing`);
      return transcript;
    }
    const say = (who: RunningClient, lines: readonly string[]) => transcript.push(...lines.map((line) => `${who.name}: ${line}`));
    for (const step of session.steps) {
      if ('server' in step) {
        if (serverProcess.pid !== undefined) process.kill(serverProcess.pid, step.server);
        transcript.push(`server: sent ${step.server}`);
        continue;
      }
      if ('start' in step) {
        const id = `kvscheck${process.pid}x${++clientCount}`;
        const [clientCommand, ...clientArgs] = client(id, fifo);
        const child = spawnGroup(clientCommand, clientArgs, { stdio: ['pipe', 'pipe', 'ignore'] });
        child.stdin!.on('error', () => {});
        clients.set(step.client, new RunningClient(step.client, id, child));
      }
      const running = clients.get(step.client);
      if (running === undefined) throw new Error(`session ${session.name}: ${step.client} used before it was started`);
      await runStep(step, running, timeoutMs, say, transcript);
    }
    return transcript;
  } finally {
    for (const running of clients.values()) {
      killGroup(running.child);
      await running.ended;
      const paths = clientPaths(running.id);
      // A client killed before it cleaned up leaves its FIFOs behind.
      if (!('error' in paths)) for (const path of [paths.req, paths.resp, paths.notif]) rmSync(path, { force: true });
    }
    if (serverProcess !== null) {
      killGroup(serverProcess);
      await serverEnded;
    }
    removeDir();
  }
}

async function runStep(step: Exclude<Step, { server: 'SIGUSR1' }>, running: RunningClient, timeoutMs: number, say: (who: RunningClient, lines: readonly string[]) => void, transcript: string[]): Promise<void> {
  if ('kill' in step) {
    killGroup(running.child);
    await running.ended;
    running.rest();
    transcript.push(`${running.name}: (killed with ${step.kill})`);
    return;
  }
  if ('exit' in step) {
    const ended = await Promise.race([running.ended, sleep(timeoutMs).then(() => null)]);
    say(running, running.rest());
    transcript.push(`${running.name}: ${ended ?? `still running after ${timeoutMs} ms`}`);
    return;
  }
  if ('send' in step) running.child.stdin!.write(`${step.send}\n`);
  const expect = 'start' in step ? /for operation: connect$/ : 'notified' in step ? step.notified : step.expect;
  // A notification comes after the jobs' WAIT, which began when the server started.
  const deadlineMs = 'notified' in step ? timeoutMs + WAIT_BEFORE_CHANGES_MS : timeoutMs;
  const { lines, matched } = await running.until(expect, deadlineMs);
  say(running, lines);
  if (!matched) transcript.push(`${running.name}: (no line matching ${expect.source} within ${deadlineMs} ms)`);
}

export async function checkServers(options: ServerOptions, progress: (done: number, total: number) => void = () => {}): Promise<SessionResult[]> {
  const servers: Record<'theirs' | 'ours', Launch> = {
    theirs: (jobsDir, fifo) => [options.theirServer, jobsDir, String(options.threads), String(options.backups), fifo],
    ours: (jobsDir, fifo) => [process.execPath, KVS_MAIN, jobsDir, String(options.threads), String(options.backups), fifo, `--compat=${options.compat}`, '--quiet'],
  };
  const clients: Record<'theirs' | 'ours', Launch> = {
    theirs: (id, fifo) => [options.theirClient, id, fifo],
    ours: (id, fifo) => [process.execPath, KVS_CLIENT, id, fifo, `--compat=${options.compat}`],
  };
  const total = SESSIONS.length * (PAIRINGS.length + 1);
  let done = 0;
  const run = async (session: Session, pairing: Pairing) => {
    progress(done, total);
    const transcript = await runSession(session, servers[pairing.server], clients[pairing.client], options.timeoutMs);
    progress(++done, total);
    return transcript;
  };
  // A session's four pairings at once: each has its own folder, FIFOs and client ids, and most of
  // a session is spent waiting on its jobs' WAIT.
  const results: SessionResult[] = [];
  for (const session of SESSIONS) {
    const [reference, ...transcripts] = await Promise.all([REFERENCE, ...PAIRINGS].map((pairing) => run(session, pairing)));
    const pairings = PAIRINGS.map((pairing, i) => ({ pairing, transcript: transcripts[i]!, same: transcripts[i]!.join('\n') === reference!.join('\n') }));
    results.push({ session, reference: reference!, pairings });
  }
  return results;
}
