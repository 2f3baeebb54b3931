/**
 * Every process the checker starts runs in a process group of its own (so that a hung program and
 * whatever it forked can be killed as one), and so outside the checker's: a Ctrl-C at the terminal
 * does not reach them. What is started is tracked here, with the temporary folders, so that a
 * checker stopped by SIGINT, SIGTERM or SIGHUP kills every group it started and removes its
 * folders before it exits.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';

const groups = new Set<ChildProcess>();
const folders = new Set<string>();

export function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** `spawn` in a new process group, tracked until it exits. */
export function spawnGroup(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  groups.add(child);
  child.once('exit', () => groups.delete(child));
  child.once('error', () => groups.delete(child));
  return child;
}

/** A temporary folder removed when the checker is stopped; call the result once done with it. */
export function trackFolder(path: string): () => void {
  folders.add(path);
  return () => {
    folders.delete(path);
    rmSync(path, { recursive: true, force: true });
  };
}

/** Kills every group still running and removes every folder; for the signal handlers. */
export function cleanUpNow(): void {
  for (const child of groups) killGroup(child);
  for (const path of folders) rmSync(path, { recursive: true, force: true });
}
