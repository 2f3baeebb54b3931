/**
 * The backup child processes: forked Node processes, started when a backup first needs one and
 * reused. This module (with msgpackr's stream classes) is loaded at the first BACKUP
 * (lazy-backups.ts). The job never waits for a fork: its BACKUP is applied and answered before the child is
 * spawned, and the snapshot's chunks wait in the pipe while the child starts. Each
 * writes one backup at a time; `write` streams a snapshot to it a chunk per event-loop turn, so
 * the jobs are paused only for the time it takes to read one chunk. A snapshot that is a copy
 * on Redis is not streamed: the child is told where it is and reads it itself. A backup that
 * finds every child busy waits a fork's time (FORK_AFTER_MS) for one to be free before forking
 * one more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PackrStream, UnpackrStream } from 'msgpackr';
import { isFromBackupChild, type BackupOutcome, type BackupTarget, type FromBackupChild, type ToBackupChild } from '../../protocol/backup-messages.js';
import { errorMessage } from '../../protocol/guards.js';
import type { StoreSnapshot } from '../../protocol/store-contract.js';
import { removeStaleTemps } from './stale-temps.js';

const CHILD_SCRIPT = new URL('./child.js', import.meta.url);
/** Pairs read from a snapshot per turn: about half a millisecond of work (p99 near 1 ms on this machine). */
export const CHUNK_PAIRS = 1024;

class BackupChild {
  private readonly process: ChildProcess;
  private readonly requests = new PackrStream({ useRecords: false });
  private waiting: ((outcome: FromBackupChild | null) => void) | null = null;
  exited = false;
  /** Why the child could not be started or was lost (EMFILE, EAGAIN...), when known. */
  private failure: string | null = null;

  constructor() {
    // Its own process group: a terminal's Ctrl-C signals the whole foreground group, and a backup
    // in progress must finish (the parent decides when to stop). It never outlives the parent: it
    // exits when its stdin closes, which the parent does in close() or the kernel does when the
    // parent dies, by whatever signal.
    this.process = spawn(process.execPath, [fileURLToPath(CHILD_SCRIPT)], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    // A spawn that fails (no descriptor or process left) is an 'error' event, never 'exit': that
    // backup fails and is reported, the run goes on.
    this.process.on('error', (error) => {
      this.failure ??= `cannot run a backup process: ${error.message}`;
      this.exited = true;
      this.settle(null);
    });
    if (this.process.stdin == null || this.process.stdout == null) {
      // EMFILE/ENFILE: Node gives up before making the pipes; the 'error' above follows.
      this.exited = true;
      return;
    }
    this.requests.pipe(this.process.stdin);
    // A child that dies makes its stdin emit EPIPE: the exit event below is what we act on.
    this.process.stdin!.on('error', () => undefined);
    this.process.stdout!.on('error', () => undefined);
    const replies = this.process.stdout!.pipe(new UnpackrStream({ useRecords: false }));
    replies.on('data', (message: unknown) => {
      if (isFromBackupChild(message)) this.settle(message);
    });
    // Bytes that do not decode: the child is not to be trusted any more; its exit settles the backup.
    replies.on('error', (error: Error) => {
      this.failure ??= `backup process ${this.pid} sent a malformed reply: ${error.message}`;
      this.kill();
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

  async write(id: number, target: BackupTarget, snapshot: StoreSnapshot, signal: AbortSignal): Promise<BackupOutcome> {
    if (this.exited) {
      await releaseQuietly(snapshot);
      // A failed spawn's 'error' comes on the next tick: wait for its reason.
      if (this.failure === null) await nextTurn();
      return { ok: false, reason: this.failure ?? `backup process ${this.pid} died` };
    }
    const outcome = new Promise<FromBackupChild | null>((resolve) => (this.waiting = resolve));
    const remote = snapshot.remote;
    if (remote !== null) {
      if (signal.aborted) {
        await releaseQuietly(snapshot);
        return { ok: false, reason: `cancelled: ${errorMessage(signal.reason)}` };
      }
      // Once sent, the copy is written to the end (the child reads it in bounded chunks).
      // The child reads the copy and drops it; dropping it here too (after the child is done, or
      // gone) makes sure a copy never outlives its backup for the length of its TTL.
      void this.send({ t: 'copy', id, path: target.path, compat: target.compat, url: remote.url, key: remote.key, pairs: remote.pairs });
      const reply = await outcome;
      await releaseQuietly(snapshot);
      return this.settled(reply, target);
    }
    try {
      await this.send({ t: 'begin', id, path: target.path, compat: target.compat });
      for (let kv = await snapshot.next(CHUNK_PAIRS); kv !== null && !this.exited && !signal.aborted; kv = await snapshot.next(CHUNK_PAIRS)) {
        const drained = this.send({ t: 'pairs', id, kv });
        await (drained ?? nextTurn());
      }
    } finally {
      await snapshot.release();
    }
    if (signal.aborted && !this.exited) {
      // Abandoned before its end: the child drops what it has and writes nothing (no reply comes).
      this.waiting = null;
      void this.send({ t: 'cancel', id });
      return { ok: false, reason: `cancelled: ${errorMessage(signal.reason)}` };
    }
    if (!this.exited) void this.send({ t: 'end', id });
    return this.settled(await outcome, target);
  }

  private async settled(reply: FromBackupChild | null, target: BackupTarget): Promise<BackupOutcome> {
    if (reply === null) {
      // The child died under its backup: its temporary file (named with its pid, now gone) goes.
      await removeStaleTemps(dirname(target.path)).catch(() => undefined);
      return { ok: false, reason: this.failure ?? `backup process ${this.pid} died` };
    }
    return reply.t === 'done' ? { ok: true, pairs: reply.pairs } : { ok: false, reason: reply.reason };
  }

  close(): void {
    this.requests.end();
  }

  kill(): void {
    if (!this.exited) this.process.kill('SIGKILL');
  }
}

/**
 * A backup that finds every child busy waits this long for one to be free before forking one
 * more: about one fork's time (a forked Node child is ready after 70-100 ms here, and a small
 * backup takes well under a millisecond), so waiting costs at most what the fork would.
 */
export const FORK_AFTER_MS = 150;

export class BackupChildren {
  private readonly idle: BackupChild[] = [];
  private readonly busy = new Set<BackupChild>();
  /** Backups waiting for a busy child to be free, oldest first. */
  private readonly waiting: ((child: BackupChild | undefined) => void)[] = [];
  private nextId = 1;

  /**
   * Starts `prefork` children now (none by default: a run without BACKUP forks nothing).
   * `forkAfterMs`: how long a backup waits for a busy child before forking (FORK_AFTER_MS).
   */
  constructor(
    prefork = 0,
    private readonly forkAfterMs = FORK_AFTER_MS,
  ) {
    if (prefork > 0) {
      for (let i = 0; i < prefork; i++) this.idle.push(new BackupChild());
    }
  }

  /**
   * Writes one backup on an idle child; when every child is busy, on the first to be free
   * within `forkAfterMs`, else on a new child.
   */
  async write(target: BackupTarget, snapshot: StoreSnapshot, signal: AbortSignal = new AbortController().signal): Promise<BackupOutcome> {
    // From here to busy.add, no await but for a busy child: backups asked for at once see each other's.
    let child = this.idle.pop();
    while (child !== undefined && child.exited) child = this.idle.pop();
    if (child === undefined && this.busy.size > 0) {
      child = await this.nextFree(signal);
      if (child === undefined && signal.aborted) {
        await releaseQuietly(snapshot);
        return { ok: false, reason: `cancelled: ${errorMessage(signal.reason)}` };
      }
    }
    child ??= new BackupChild();
    this.busy.add(child);
    try {
      return await child.write(this.nextId++, target, snapshot, signal);
    } finally {
      this.busy.delete(child);
      if (!child.exited) this.free(child);
    }
  }

  /** A child that ended its backup goes to the oldest backup waiting for one, else back to idle. */
  private free(child: BackupChild): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(child);
    else this.idle.push(child);
  }

  /** The first busy child to be free within `forkAfterMs`; undefined past it or on abort. */
  private nextFree(signal: AbortSignal): Promise<BackupChild | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const settle = (child: BackupChild | undefined) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const at = this.waiting.indexOf(settle);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(child);
      };
      const onAbort = () => settle(undefined);
      const timer = setTimeout(onAbort, this.forkAfterMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(settle);
    });
  }

  /** Exiting at once (a second Ctrl-C): the backups under way are abandoned. */
  killAll(): void {
    for (const child of [...this.idle, ...this.busy]) child.kill();
  }

  /** Ends the idle children. Call once no backup is under way. */
  close(): void {
    for (const child of this.idle.splice(0)) child.close();
  }
}

/** Dropping a copy whose store is gone fails too; the backup's outcome already says what happened. */
async function releaseQuietly(snapshot: StoreSnapshot): Promise<void> {
  await snapshot.release().catch(() => undefined);
}
