/**
 * Fixtures for batch-mode tests: temporary job folders and runs of the real program
 * (`node runtime/main.js`). Everything a helper starts or creates is stopped or removed in
 * `t.teardown`, also when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { MAIN, PROJECT_ROOT, tempDir, waitFor as pollFor, writeFiles } from './fixtures.js';
import { RUN_SLOTS } from './slots.js';

export { MAIN, PROJECT_ROOT, tempDir, writeFiles } from './fixtures.js';

/**
 * Default deadline for one run of the program. It only bounds how long a hung run keeps a failing
 * test waiting, so it is generous: under `npm run test:stress` on a shared 2-core machine (load
 * average 40-70) a run that takes 2 s alone took more than 45 s. KVS_TEST_RUN_DEADLINE_MS overrides it.
 */
export const RUN_DEADLINE_MS = Number(process.env['KVS_TEST_RUN_DEADLINE_MS'] ?? 240_000);

/** A job folder holding `files`, removed when the test ends. */
export function jobsDir(t: ExecutionContext, files: Readonly<Record<string, string | Uint8Array>>): string {
  const dir = tempDir(t);
  writeFiles(dir, files);
  return dir;
}

/** A file's bytes as a latin1 string (one char per byte), or null when it does not exist. */
export function readBytes(path: string): string | null {
  return existsSync(path) ? readFileSync(path).toString('latin1') : null;
}

export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  /** stderr without the run's summary line, so that tests of what else is reported stay exact. */
  readonly stderr: string;
  /** The summary line (runtime/observe/progress.ts) the program ends with unless `--quiet`, or null. */
  readonly summary: string | null;
}

/** `kvs: 2 files, 8 commands, 1 invalid line, 3 backups in 0.61 s`, last on stderr. */
const SUMMARY_LINE = /(?:^|\n)(kvs: \d+ files?\b[^\n]* in (?:[\d.]+ s|\d+ min \d+ s))\n$/;

function splitSummary(stderr: string): { stderr: string; summary: string | null } {
  const match = SUMMARY_LINE.exec(stderr);
  if (match === null) return { stderr, summary: null };
  return { stderr: stderr.slice(0, match.index + (match[0].startsWith('\n') ? 1 : 0)), summary: match[1]! };
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly deadlineMs?: number;
  /** Run as this user and group (tests as root use it to make chmod 000 mean something). */
  readonly uid?: number;
  readonly gid?: number;
  /** The working folder (the project's by default). */
  readonly cwd?: string;
  /** The program's entry (the checkout's runtime/main.js by default). */
  readonly main?: string;
}

export interface Running {
  readonly child: ChildProcess;
  /** Settles when the program exits; rejects if it outlives its deadline (it is then killed). */
  readonly result: Promise<RunResult>;
}

/** Starts `node runtime/main.js ...args`; it is killed at teardown if still running. */
export function startKvs(t: ExecutionContext, args: readonly string[], options: RunOptions = {}): Running {
  const child = spawn(process.execPath, [options.main ?? MAIN, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const alive = () => child.exitCode === null && child.signalCode === null;
  t.teardown(() => {
    if (alive()) child.kill('SIGKILL');
  });
  const deadlineMs = options.deadlineMs ?? RUN_DEADLINE_MS;
  const result = new Promise<RunResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kvs ${args.join(' ')} still running after ${deadlineMs} ms; stderr:\n${Buffer.concat(stderr).toString()}`));
    }, deadlineMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'close' comes after 'exit' once stdout and stderr are fully read.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout: Buffer.concat(stdout).toString('latin1'), ...splitSummary(Buffer.concat(stderr).toString('latin1')) });
    });
  });
  // A test that fails before awaiting `result` must not also leave an unhandled rejection behind
  // (ava would count it as a second failure); awaiting `result` still sees the rejection.
  result.catch(() => {});
  return { child, result };
}

/** Runs `node runtime/main.js ...args` to its end, once one of the file's run slots is free. */
export async function runKvs(t: ExecutionContext, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const release = await RUN_SLOTS.take();
  try {
    return await startKvs(t, args, options).result;
  } finally {
    release();
  }
}

/** fixtures.ts's waitFor with a run's deadline: what is awaited here is a run getting somewhere. */
export function waitFor<T>(probe: () => T | undefined, what: string, deadlineMs = RUN_DEADLINE_MS, everyMs = 5): Promise<T> {
  return pollFor(probe, what, deadlineMs, everyMs);
}

/** The stderr lines that are not empty. */
export function stderrLines(result: RunResult): string[] {
  return result.stderr.split('\n').filter((line) => line.length > 0);
}
