/**
 * Runs the real program (`node runtime/main.js ...`) as a child process with piped stdio, and
 * makes throwaway jobs folders. Every process started here is killed by its deadline at the
 * latest, and every folder is removed when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { MAIN, PROJECT_ROOT, tempDir, waitUntil, writeFiles } from './fixtures.js';

export { MAIN, PROJECT_ROOT } from './fixtures.js';

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
  /** The process's environment (this one's by default). */
  readonly env?: NodeJS.ProcessEnv;
  /** The working folder (the project's by default). */
  readonly cwd?: string;
}

/** Every process started here and not yet ended: killed when the test worker exits, even if a test failed before awaiting its run. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProgramRun> {
  // The deadline only bounds a hang; on a loaded 2-core machine a run can take tens of seconds.
  const { deadlineMs = 120_000, onSpawn, env = process.env, cwd = PROJECT_ROOT } = options;
  const started = performance.now();
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const dir = tempDir(t, 'kvs-viz-');
  // UTF-8, as the tests write them: these jobs are text a person would type.
  writeFiles(dir, Object.fromEntries(Object.entries(jobs).map(([name, text]) => [name, Buffer.from(text, 'utf8')])));
  return dir;
}

/** Resolves once `check()` holds, polling (fixtures.ts's waitUntil); rejects after `ms`. */
export function until(check: () => boolean | Promise<boolean>, ms = 120_000, what = 'the condition'): Promise<void> {
  return waitUntil(what, check, ms);
}

/** The lines of a text, without the empty one after a final newline. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1);
}
