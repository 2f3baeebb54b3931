/**
 * The backup child processes: forked Node processes, started ahead of need and reused. Each
 * writes one backup at a time; `write` streams a snapshot to it a chunk per event-loop turn, so
 * the jobs are paused only for the time it takes to read one chunk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PackrStream, UnpackrStream } from 'msgpackr';
import { isFromBackupChild, type FromBackupChild, type ToBackupChild } from '../protocol/backup-messages.js';
import type { SnapshotReader } from '../actors/store.js';

const CHILD_SCRIPT = new URL('./backup-child.js', import.meta.url);
/** Pairs read from a snapshot per turn: about half a millisecond of work (p99 near 1 ms on this machine). */
export const CHUNK_PAIRS = 1024;

export interface BackupJob {
  readonly path: string;
  readonly separator: string;
}

export type BackupOutcome = { readonly ok: true; readonly pairs: number } | { readonly ok: false; readonly reason: string };

class BackupChild {
  private readonly process: ChildProcess;
  private readonly requests = new PackrStream({ useRecords: false });
  private waiting: ((outcome: FromBackupChild | null) => void) | null = null;
  exited = false;

  constructor() {
    // Its own process group: a terminal's Ctrl-C signals the whole foreground group, and a backup
    // in progress must finish (the parent decides when to stop). It never outlives the parent: it
    // exits when its stdin closes, which the parent does in close() or the kernel does when the
    // parent dies, by whatever signal.
    this.process = spawn(process.execPath, [CHILD_SCRIPT.pathname], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    this.requests.pipe(this.process.stdin!);
    // A child that dies makes its stdin emit EPIPE: the exit event below is what we act on.
    this.process.stdin!.on('error', () => undefined);
    this.process.stdout!.pipe(new UnpackrStream({ useRecords: false })).on('data', (message: unknown) => {
      if (isFromBackupChild(message)) this.settle(message);
    });
    this.process.on('exit', () => {
      this.exited = true;
      this.settle(null);
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  private settle(outcome: FromBackupChild | null): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(outcome);
  }

  private send(message: ToBackupChild): Promise<void> | undefined {
    if (this.requests.write(message)) return undefined;
    return new Promise((resolve) => this.requests.once('drain', resolve));
  }

  async write(id: number, job: BackupJob, snapshot: SnapshotReader): Promise<BackupOutcome> {
    const tmpPath = `${job.path}.${this.pid}.tmp`;
    const outcome = new Promise<FromBackupChild | null>((resolve) => (this.waiting = resolve));
    try {
      await this.send({ t: 'begin', id, path: job.path, tmpPath, separator: job.separator });
      for (let kv = snapshot.next(CHUNK_PAIRS); kv !== null && !this.exited; kv = snapshot.next(CHUNK_PAIRS)) {
        const drained = this.send({ t: 'pairs', id, kv });
        await (drained ?? nextTurn());
      }
    } finally {
      snapshot.release();
    }
    if (!this.exited) void this.send({ t: 'end', id });
    const reply = await outcome;
    if (reply === null) {
      rmSync(tmpPath, { force: true });
      return { ok: false, reason: `backup process ${this.pid} died` };
    }
    return reply.t === 'done' ? { ok: true, pairs: reply.pairs } : { ok: false, reason: reply.reason };
  }

  close(): void {
    this.requests.end();
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }
}

export class BackupChildren {
  private readonly idle: BackupChild[] = [];
  private nextId = 1;

  /** Starts `prefork` children now, while the parent is small and forking is cheap. */
  constructor(prefork: number) {
    for (let i = 0; i < prefork; i++) this.idle.push(new BackupChild());
  }

  /** Writes one backup on an idle child (a new one if none is idle or alive). */
  async write(job: BackupJob, snapshot: SnapshotReader): Promise<BackupOutcome> {
    let child = this.idle.pop();
    while (child !== undefined && child.exited) child = this.idle.pop();
    child ??= new BackupChild();
    const outcome = await child.write(this.nextId++, job, snapshot);
    if (!child.exited) this.idle.push(child);
    return outcome;
  }

  /** Ends the idle children. Call once no backup is under way. */
  close(): void {
    for (const child of this.idle.splice(0)) child.close();
  }
}
