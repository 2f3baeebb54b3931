/**
 * One run of a batch program (theirs or ours) on a jobs folder: started in a process group of its
 * own, killed with its whole group when it outlives its deadline or once it has exited (a backup
 * child it left behind must not outlive the check), and the `.out` and `.bck` files it wrote read
 * back as bytes. A run never throws for what the program does: a hang is a `timeout`, a death by
 * a signal is a `signal`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Compat } from '../../protocol/compat.js';
import { killGroup, spawnGroup } from './process-groups.js';

/** What every check runs their program and ours with: the same style, counts and deadline. */
export interface RunSettings {
  /** How long one run (batch) or one step (server) may take before it is a finding. */
  readonly timeoutMs: number;
  readonly compat: Compat;
  readonly backups: number;
  readonly threads: number;
}

export type RunStatus =
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'timeout'; readonly ms: number };

export interface ProgramResult {
  readonly status: RunStatus;
  /** Output file name -> its bytes (latin1), for every `.out` and `.bck` in the folder. */
  readonly files: ReadonlyMap<string, string>;
  /** The last bytes the program wrote on stdout and stderr, for the report. */
  readonly log: string;
}

/** A program and the arguments around the jobs folder: `command ...before <dir> ...after`. */
export interface ProgramCommand {
  readonly command: string;
  readonly before: readonly string[];
  readonly after: readonly string[];
}

/** What is kept of a program's stdout and stderr. */
const LOG_TAIL_BYTES = 4096;
/** How long the pipes may stay open after the program exited (a process that left its group). */
const PIPE_DRAIN_MS = 1000;

export function isOutputFile(name: string): boolean {
  return name.endsWith('.out') || name.endsWith('.bck');
}

/** Every `.out` and `.bck` in `dir`, by name. */
export function readOutputs(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(dir).filter(isOutputFile).sort()) {
    try {
      files.set(name, readFileSync(join(dir, name), 'latin1'));
    } catch {
      // A folder named x.out, or a file that went away: not an output.
    }
  }
  return files;
}

/** Runs `program` on `dir` and resolves when it and its process group are done with. */
export function runProgram(program: ProgramCommand, dir: string, timeoutMs: number): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawnGroup(program.command, [...program.before, dir, ...program.after], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString('latin1')).slice(-LOG_TAIL_BYTES);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'exit', not 'close': a child of theirs that kept stdout open would hold 'close' back. The
    // group is killed at once, and the pipes are given a moment to drain.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      killGroup(child);
      const status: RunStatus = timedOut
        ? { kind: 'timeout', ms: timeoutMs }
        : signal !== null
          ? { kind: 'signal', signal }
          : { kind: 'exit', code: code ?? 0 };
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        clearTimeout(drain);
        resolve({ status, files: readOutputs(dir), log });
      };
      const drain = setTimeout(done, PIPE_DRAIN_MS);
      child.once('close', done);
    });
  });
}

export function describeStatus(status: RunStatus): string {
  switch (status.kind) {
    case 'exit':
      return `exit ${status.code}`;
    case 'signal':
      return `killed by ${status.signal}`;
    case 'timeout':
      return `no end after ${status.ms} ms (killed)`;
  }
}
