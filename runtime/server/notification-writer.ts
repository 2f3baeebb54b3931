/**
 * Writes a session's notifications. Changes arrive one by one inside a store batch; writing each
 * 82-byte frame at once would cost a system call apiece, so frames are gathered and written once
 * per subscriber in a microtask right after the batch, still in the order they happened.
 *
 * A client that stops reading must not grow the server's memory, but one that keeps reading must
 * get every change even through a burst (a job writing one key 300,000 times queues 24 MB faster
 * than any reader takes it). So, as Redis does for pub/sub clients, three limits:
 * - hard: past `capBytes` queued (gathered plus not yet taken by the kernel) the session ends at once;
 * - soft: queued above `softBytes` without a break for `softMs`, it ends (a reader too slow for
 *   the changes it asked for);
 * - stall: past `stallBytes` it ends if the kernel has taken nothing from us for `stallMs` (a
 *   reader that stopped reading).
 * A reader that keeps up, however big the burst below the hard cap, gets everything, in order;
 * one that pauses (stopped, suspended at a terminal, starved of CPU) for less than the soft and
 * stall windows keeps its session and gets everything too.
 *
 * "Taken by the kernel" is what libuv wrote, and libuv writes in the event loop's poll phase,
 * which comes after the timers phase: a server whose own loop was held (a long turn, or the
 * process starved of CPU) would see its stall timer fire before libuv had refilled a pipe the
 * reader had long emptied, and drop a live reader. So the timer only asks, and the answer is read
 * in the check phase (setImmediate), after a poll phase has let libuv write what it could.
 */
import type { NotificationLimits } from '../../protocol/notification-limits.js';
import type { Subscriber } from '../../protocol/session-link.js';

/** What the writer needs of a socket: tests pass a fake. */
export interface WritableSink {
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
}

/** How many times over `softMs` the soft limit is looked at: a dip below it restarts the count. */
const SOFT_SAMPLES = 10;

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
  private softTimer: NodeJS.Timeout | null = null;
  private softSince = 0;

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
    if (this.softTimer === null && this.overSoft()) this.watchSoft();
  }

  private overSoft(): boolean {
    return this.limits.softBytes !== undefined && this.queuedBytes > this.limits.softBytes;
  }

  private watchSoft(): void {
    const softMs = this.limits.softMs ?? 0;
    this.softSince = Date.now();
    // Read in the check phase, as the stall rule's answer is (see the top of this file).
    const sample = () =>
      setImmediate(() => {
        this.softTimer = null;
        if (this.stopped || !this.overSoft()) return;
        if (Date.now() - this.softSince >= softMs) return this.overflow();
        this.softTimer = setTimeout(sample, softMs / SOFT_SAMPLES);
        this.softTimer.unref();
      });
    this.softTimer = setTimeout(sample, softMs / SOFT_SAMPLES);
    this.softTimer.unref();
  }

  /** Drops what is not yet written; later notifications are ignored. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    if (this.softTimer !== null) clearTimeout(this.softTimer);
    this.softTimer = null;
  }

  private get taken(): number {
    return this.written - this.sink.writableLength;
  }

  private watchStall(takenBefore: number): void {
    this.stallTimer = setTimeout(() => {
      // Still set while the answer waits for the check phase: flush() starts no second watch.
      setImmediate(() => {
        this.stallTimer = null;
        if (this.stopped || this.sink.writableLength <= this.limits.stallBytes) return;
        if (this.taken === takenBefore) this.overflow();
        else this.watchStall(this.taken);
      });
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
