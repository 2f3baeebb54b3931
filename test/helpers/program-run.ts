/**
 * Runs the real program (`node runtime/main.js ...`) as a child process with piped stdio, and
 * makes throwaway jobs folders. Every process started here is killed by its deadline at the
 * latest, and every folder is removed when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

/** The project root, seen from `dist/test/helpers/`. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = join(PROJECT_ROOT, 'runtime', 'main.js');

export interface ProgramRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the deadline passed and the process had to be killed. */
  readonly killed: boolean;
  readonly ms: number;
}

export interface RunOptions {
  /** Killed with SIGKILL past this. */
  readonly deadlineMs?: number;
  /** Given the process once started (to signal it, say). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** Every process started here and not yet ended: killed when the test worker exits, even if a test failed before awaiting its run. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProgramRun> {
  // The deadline only bounds a hang; on a loaded 2-core machine a run can take tens of seconds.
  const { deadlineMs = 120_000, onSpawn } = options;
  const started = performance.now();
  const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  onSpawn?.(child);
  let killed = false;
  const deadline = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, deadlineMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr, killed, ms: performance.now() - started });
    });
  });
}

export function runProgram(args: readonly string[], options?: RunOptions): Promise<ProgramRun> {
  return runCommand(process.execPath, [MAIN, ...args], options);
}

/** A fresh folder holding the given `.job` files (name -> text), removed after the test. */
export async function makeJobsDir(t: ExecutionContext, jobs: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-viz-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(jobs)) await writeFile(join(dir, name), text);
  return dir;
}

/** Resolves once `check()` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The lines of a text, without the empty one after a final newline. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
}
