/**
 * Watches the jobs folder while the server runs: a `.job` file created or rewritten there is
 * submitted once it is complete. "Complete" means it kept the same size, mtime and inode over a
 * quiet period: `echo ... > update.job` or an editor's rename both settle in one period, a file
 * written in pieces waits for its last piece. Which files are jobs is protocol/job-files.ts's one
 * rule, as at start: the server's own `.out`, `.bck` and temporary files never match, and a file already run with the same contents is not run again.
 */
import { type FSWatcher, type Stats, watch } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { isJobFile, isJobFileName } from '../../protocol/job-files.js';

export const SETTLE_MS = 100;

export type JobsWatcherInput = {
  jobsDir: string;
  submitJob: (jobPath: string) => void;
  log: (line: string) => void;
  settleMs?: number;
};

type Signature = string;

function signature(s: Stats): Signature {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

export class JobsWatcher {
  private readonly watcher: FSWatcher;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The signature seen at the last check of a file still settling. */
  private readonly settling = new Map<string, Signature>();
  /** The signature of each file as last run (or as found at start, when main runs it). */
  private readonly ran = new Map<string, Signature>();
  private closed = false;
  /** Names that are not UTF-8, said once each. */
  private readonly undecodable = new Set<string>();
  private readonly settleMs: number;
  /** The jobs in the folder when the watch began (see start). */
  initialJobs: readonly string[] = [];

  private constructor(private readonly input: JobsWatcherInput) {
    this.settleMs = input.settleMs ?? SETTLE_MS;
    this.watcher = watch(input.jobsDir, { persistent: false }, (_event, name) => {
      if (typeof name === 'string' && isJobFileName(name)) this.touch(name);
    });
    this.watcher.on('error', (error) => input.log(`watching ${input.jobsDir}: ${error.message}`));
  }

  /**
   * Starts watching, then lists the folder with `listJobs`: the jobs already there, returned as
   * `initialJobs` for the caller to run. Listed after the watch began, a file that arrives meanwhile
   * is in the list and is not submitted again by the watch, and none falls between the two.
   */
  static async start(input: JobsWatcherInput, listJobs: () => Promise<readonly string[]>): Promise<JobsWatcher> {
    const watcher = new JobsWatcher(input);
    try {
      watcher.initialJobs = await listJobs();
    } catch (error) {
      watcher.close();
      throw error;
    }
    for (const path of watcher.initialJobs) {
      const s = await lstat(path).catch(() => null);
      if (s !== null) watcher.ran.set(path, signature(s));
    }
    return watcher;
  }

  private touch(name: string): void {
    if (this.closed) return;
    const path = join(this.input.jobsDir, name);
    clearTimeout(this.timers.get(path));
    this.timers.set(path, setTimeout(() => void this.check(path, name), this.settleMs));
  }

  private async check(path: string, name: string): Promise<void> {
    this.timers.delete(path);
    const s = await lstat(path).catch(() => null);
    if (this.closed) return;
    // The rule listJobs applies at start: a symlink or a folder named *.job is not a job.
    if (s === null || !isJobFile(name, s)) {
      this.settling.delete(path);
      // The watch decodes names as UTF-8: one that is not names no file, and would go unseen.
      if (s === null && name.includes('\uFFFD') && !this.undecodable.has(name)) {
        this.undecodable.add(name);
        this.input.log(`job ${path} cannot be run: its name is not valid UTF-8, so it cannot be opened by name: rename it`);
      }
      return;
    }
    const now = signature(s);
    if (this.settling.get(path) !== now) {
      // Changed since the last look (or first look): wait for another quiet period.
      this.settling.set(path, now);
      this.timers.set(path, setTimeout(() => void this.check(path, name), this.settleMs));
      return;
    }
    this.settling.delete(path);
    if (this.ran.get(path) === now) return;
    this.ran.set(path, now);
    this.input.submitJob(path);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
