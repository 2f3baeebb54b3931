/**
 * Writes a session's notifications. Changes arrive one by one inside a store batch; writing each
 * 82-byte frame at once would cost a system call apiece, so frames are gathered and written once
 * per subscriber in a microtask right after the batch, still in the order they happened.
 * Past `capBytes` queued (gathered plus not yet taken by the kernel) the client is not reading:
 * the writer stops and reports an overflow, so one slow client never grows the server's memory.
 */
import type { Subscriber } from '../actors/subscriptions.js';

/** What the writer needs of a socket: tests pass a fake. */
export interface WritableSink {
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
}

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

  constructor(
    private readonly sink: WritableSink,
    private readonly capBytes: number,
    private readonly onOverflow: () => void,
  ) {}

  get queuedBytes(): number {
    return this.pendingBytes + this.sink.writableLength;
  }

  notify(frame: Buffer): void {
    if (this.stopped) return;
    if (this.queuedBytes + frame.length > this.capBytes) {
      this.stop();
      // Reported after the store's turn: the session's reaction changes the registry, which is
      // iterating its subscribers right now.
      queueMicrotask(this.onOverflow);
      return;
    }
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
  }

  /** Drops what is not yet written; later notifications are ignored. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
