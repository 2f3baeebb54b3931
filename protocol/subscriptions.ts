/**
 * The subscription registry: key -> subscribers. The store calls `onChange` for every WRITE and
 * DELETE inside a batch's turn, so a key nobody watches must cost one Map lookup and nothing more.
 */
import { DELETED_VALUE, encodeNotification } from './frames.js';

/** Takes an 82-byte notification; must not throw and must not call back into the registry. */
export interface Subscriber {
  notify(frame: Buffer): void;
}

export class SubscriptionRegistry {
  private readonly byKey = new Map<string, Set<Subscriber>>();

  /** True when the subscription is new; subscribing twice is one subscription. */
  add(key: string, subscriber: Subscriber): boolean {
    let subscribers = this.byKey.get(key);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.byKey.set(key, subscribers);
    }
    const before = subscribers.size;
    subscribers.add(subscriber);
    return subscribers.size !== before;
  }

  /** True when the subscription existed and is now gone. */
  remove(key: string, subscriber: Subscriber): boolean {
    const subscribers = this.byKey.get(key);
    if (subscribers === undefined || !subscribers.delete(subscriber)) return false;
    if (subscribers.size === 0) this.byKey.delete(key);
    return true;
  }

  removeAll(subscriber: Subscriber, keys: Iterable<string>): void {
    for (const key of keys) this.remove(key, subscriber);
  }

  clear(): void {
    this.byKey.clear();
  }

  /** Keys with at least one subscriber. */
  get keyCount(): number {
    return this.byKey.size;
  }

  subscribersOf(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  /** The store's change listener; an arrow so it can be handed over as it is. */
  readonly onChange = (key: string, value: string | null): void => {
    const subscribers = this.byKey.get(key);
    if (subscribers === undefined) return;
    const frame = encodeNotification(key, value ?? DELETED_VALUE);
    for (const subscriber of subscribers) subscriber.notify(frame);
  };
}
