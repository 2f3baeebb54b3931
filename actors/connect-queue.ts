/**
 * The bounded buffer between the host and the sessions (the seed's producer-consumer buffer with
 * semaphores): connect requests wait here in arrival order until a session takes them.
 */
import type { ConnectFrame } from '../protocol/frames.js';

type Waiter = { resolve: (request: ConnectFrame) => void; reject: (reason: unknown) => void };

export class ConnectQueue {
  readonly capacity: number;
  /** Called when a full buffer gets room again: the host then reads on. */
  onSpace: (() => void) | null = null;
  private readonly items: ConnectFrame[] = [];
  private readonly waiters: Waiter[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be at least 1, not ${capacity}`);
    this.capacity = capacity;
  }

  get length(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  /** The host only offers while not full; a waiting session takes the request at once. */
  offer(request: ConnectFrame): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(request);
      return;
    }
    if (this.full) throw new Error('offer on a full connect queue');
    this.items.push(request);
  }

  /** The oldest request, waiting for one if none is there; rejects when `signal` aborts. */
  take(signal: AbortSignal): Promise<ConnectFrame> {
    const request = this.items.shift();
    if (request !== undefined) {
      if (this.items.length === this.capacity - 1) this.onSpace?.();
      return Promise.resolve(request);
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<ConnectFrame>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Empties the buffer (at shutdown) and returns what was waiting. */
  drain(): ConnectFrame[] {
    return this.items.splice(0);
  }
}
