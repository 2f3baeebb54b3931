/**
 * The subscription registry: key -> subscribers. The store calls `onChange` for every WRITE and
 * DELETE inside a batch's turn, so a key nobody watches must cost one Map lookup and nothing more.
 * Watchers (the subscription actors) hear only of a watched key's DELETE and of the WRITE that
 * re-creates it: a WRITE of a key that exists costs them nothing but a size check.
 */
import { DELETED_VALUE, encodeNotification } from '../protocol/frames.js';

/** Told `deleted` when its key is deleted, `created` when it is written again after that. */
export type KeyWatcher = (change: 'deleted' | 'created') => void;

/** Takes an 82-byte notification; must not throw and must not call back into the registry. */
export interface Subscriber {
  notify(frame: Buffer): void;
}

export class SubscriptionRegistry {
  private readonly byKey = new Map<string, Set<Subscriber>>();
  private readonly watchers = new Map<string, Set<KeyWatcher>>();
  /** Watched keys deleted and not written since: only these make a WRITE tell the watchers. */
  private readonly deletedKeys = new Set<string>();

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

  /** Watches `key` for its DELETE and its re-creation; returns the way to stop, idempotent. */
  watch(key: string, watcher: KeyWatcher): () => void {
    let watchers = this.watchers.get(key);
    if (watchers === undefined) {
      watchers = new Set();
      this.watchers.set(key, watchers);
    }
    watchers.add(watcher);
    const set = watchers;
    return () => {
      if (!set.delete(watcher) || set.size !== 0 || this.watchers.get(key) !== set) return;
      this.watchers.delete(key);
      this.deletedKeys.delete(key);
    };
  }

  clear(): void {
    this.byKey.clear();
    this.watchers.clear();
    this.deletedKeys.clear();
  }

  /** Keys with at least one subscriber. */
  get keyCount(): number {
    return this.byKey.size;
  }

  subscribersOf(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  watchersOf(key: string): number {
    return this.watchers.get(key)?.size ?? 0;
  }

  /** The store's change listener; an arrow so it can be handed over as it is. */
  readonly onChange = (key: string, value: string | null): void => {
    const subscribers = this.byKey.get(key);
    if (subscribers !== undefined) {
      const frame = encodeNotification(key, value ?? DELETED_VALUE);
      for (const subscriber of subscribers) subscriber.notify(frame);
    }
    if (value === null ? this.watchers.size !== 0 : this.deletedKeys.size !== 0) this.tellWatchers(key, value);
  };

  private tellWatchers(key: string, value: string | null): void {
    const watchers = this.watchers.get(key);
    if (value === null) {
      if (watchers === undefined || this.deletedKeys.has(key)) return;
      this.deletedKeys.add(key);
    } else if (!this.deletedKeys.delete(key) || watchers === undefined) return;
    // A copy: a watcher may stop watching while it is told.
    for (const watcher of [...watchers]) watcher(value === null ? 'deleted' : 'created');
  }
}
