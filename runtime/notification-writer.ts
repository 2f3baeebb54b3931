/**
 * Writes a session's notifications. Changes arrive one by one inside a store batch; writing each
 * 82-byte frame at once would cost a system call apiece, so frames are gathered and written once
 * per subscriber in a microtask right after the batch, still in the order they happened.
 *
 * A client that stops reading must not grow the server's memory, but one that reads while a big
 * batch lands must not be cut off either: a batch of thousands of changes queues megabytes in one
 * turn, faster than any reader. So two limits: past `capBytes` queued (gathered plus not yet taken
 * by the kernel) the session ends at once; past `stallBytes` it ends if the kernel has taken
 * nothing from us for `stallMs`.
 */
import type { Subscriber } from '../actors/subscriptions.js';

/** What the writer needs of a socket: tests pass a fake. */
export interface WritableSink {
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
}

export type NotificationLimits = { capBytes: number; stallBytes: number; stallMs: number };

export const DEFAULT_LIMITS: NotificationLimits = { capBytes: 8 * 1024 * 1024, stallBytes: 256 * 1024, stallMs: 2000 };

const dirty: NotificationWriter[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  for (const writer of dirty.splice(0)) writer.flush();
}

export class NotificationWriter implements Subscriber {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stopped = false;
  /** Bytes handed to the sink so far; minus its writableLength, what the kernel has taken. */
  private written = 0;
  private stallTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sink: WritableSink,
    private readonly limits: NotificationLimits,
    private readonly onOverflow: () => void,
  ) {}

  get queuedBytes(): number {
    return this.pendingBytes + this.sink.writableLength;
  }

  notify(frame: Buffer): void {
    if (this.stopped) return;
    if (this.queuedBytes + frame.length > this.limits.capBytes) return this.overflow();
    if (this.pending.length === 0) {
      dirty.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        queueMicrotask(flushAll);
      }
    }
    this.pending.push(frame);
    this.pendingBytes += frame.length;
  }

  flush(): void {
    if (this.stopped || this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.sink.write(chunk);
    this.written += chunk.length;
    if (this.stallTimer === null && this.sink.writableLength > this.limits.stallBytes) this.watchStall(this.taken);
  }

  /** Drops what is not yet written; later notifications are ignored. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  private get taken(): number {
    return this.written - this.sink.writableLength;
  }

  private watchStall(takenBefore: number): void {
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.stopped || this.sink.writableLength <= this.limits.stallBytes) return;
      if (this.taken === takenBefore) this.overflow();
      else this.watchStall(this.taken);
    }, this.limits.stallMs);
    this.stallTimer.unref();
  }

  private overflow(): void {
    this.stop();
    // Reported after the store's turn: the session's reaction changes the registry, which may be
    // iterating its subscribers right now.
    queueMicrotask(this.onOverflow);
  }
}
