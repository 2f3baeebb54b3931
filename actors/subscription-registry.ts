/**
 * The subscription registry: key -> subscribers. The store calls `onChange` for every WRITE and
 * DELETE inside a batch's turn, so a key nobody watches must cost one Map lookup and nothing more.
 * Watchers (the subscription actors) hear only of a watched key's DELETE and of the WRITE that
 * re-creates it: a WRITE of a key that exists costs them nothing but a size check. They are told
 * at most once per window (WATCH_WINDOW_MS), of where the key ended up: a key deleted and re-created
 * a thousand times in a window costs each watcher one event at most, not one per change (an XState
 * event costs ~2.5 µs, and a key may have many subscribers).
 *
 * Most keys have one subscriber and one watcher: a key's entry is then that subscriber (or
 * watcher) itself, and a Set only once a second one comes. One client subscribing to 20,000 keys
 * thus makes no Set at all (two per key before: allocations the young generation copies, and
 * deletes that held the main thread ~20 ms, now ~7, when the client disconnected).
 */
import { DELETED_VALUE, encodeNotification } from '../protocol/frames.js';
import type { Subscriber } from '../protocol/session-link.js';
import type { ChangeListener } from '../protocol/store-contract.js';
import type { KeyEvent, KeyWatch, KeyWatcher } from './subscription.js';

export type { KeyWatcher };

/** The two events watchers are sent: the same objects every time (nothing changes an event). */
const KEY_DELETED: KeyEvent = Object.freeze({ type: 'key.deleted' });
const KEY_CREATED: KeyEvent = Object.freeze({ type: 'key.created' });

/** Runs `tell` later; returns the way to cancel it. */
export type WatchSchedule = (tell: () => void) => () => void;

/** How long watchers may lag their key's DELETE or re-creation: they only show a lifecycle. */
export const WATCH_WINDOW_MS = 10;

const afterWindow: WatchSchedule = (tell) => {
  const timer = setTimeout(tell, WATCH_WINDOW_MS);
  // Nothing waits for a subscription's state: it must not hold the process.
  timer.unref();
  return () => clearTimeout(timer);
};

/** One, or a Set once there are more (it stays a Set: its order is the order they came in). */
type OneOrMore<T> = T | Set<T>;

/** Adds `item` to `key`'s entry; false when it was there. */
function addTo<T extends object>(map: Map<string, OneOrMore<T>>, key: string, item: T): boolean {
  const found = map.get(key);
  if (found === undefined) {
    map.set(key, item);
    return true;
  }
  if (found instanceof Set) {
    const before = found.size;
    found.add(item);
    return found.size !== before;
  }
  if (found === item) return false;
  map.set(key, new Set([found, item]));
  return true;
}

/** Removes `item` from `key`'s entry, and the entry once empty; false when it was not there. */
function removeFrom<T extends object>(map: Map<string, OneOrMore<T>>, key: string, item: T): boolean {
  const found = map.get(key);
  if (found === undefined) return false;
  if (found instanceof Set) {
    if (!found.delete(item)) return false;
    if (found.size === 0) map.delete(key);
    return true;
  }
  if (found !== item) return false;
  map.delete(key);
  return true;
}

function sizeOf<T extends object>(found: OneOrMore<T> | undefined): number {
  return found === undefined ? 0 : found instanceof Set ? found.size : 1;
}

export class SubscriptionRegistry implements KeyWatch {
  private readonly byKey = new Map<string, OneOrMore<Subscriber>>();
  private readonly watchers = new Map<string, OneOrMore<KeyWatcher>>();
  /** Watched keys deleted and not written since: only these make a WRITE tell the watchers. */
  private readonly deletedKeys = new Set<string>();
  /** Watched keys deleted or re-created (an odd number of times) since the watchers were last told. */
  private readonly flipped = new Set<string>();
  private cancelTell: (() => void) | null = null;

  /** `schedule` decides when watchers are told (tests tell them at once). */
  constructor(private readonly schedule: WatchSchedule = afterWindow) {}

  /** True when the subscription is new; subscribing twice is one subscription. */
  add(key: string, subscriber: Subscriber): boolean {
    return addTo(this.byKey, key, subscriber);
  }

  /** True when the subscription existed and is now gone. */
  remove(key: string, subscriber: Subscriber): boolean {
    return removeFrom(this.byKey, key, subscriber);
  }

  removeAll(subscriber: Subscriber, keys: Iterable<string>): void {
    for (const key of keys) this.remove(key, subscriber);
  }

  /** Watches `key` for its DELETE (`key.deleted`) and its re-creation (`key.created`). */
  watch(key: string, watcher: KeyWatcher): void {
    addTo(this.watchers, key, watcher);
  }

  /** Stops `watch(key, watcher)`; idempotent. */
  unwatch(key: string, watcher: KeyWatcher): void {
    if (!removeFrom(this.watchers, key, watcher) || this.watchers.has(key)) return;
    this.deletedKeys.delete(key);
    this.flipped.delete(key);
  }

  clear(): void {
    this.byKey.clear();
    this.watchers.clear();
    this.deletedKeys.clear();
    this.flipped.clear();
    this.cancelTell?.();
    this.cancelTell = null;
  }

  /** Keys with at least one subscriber. */
  get keyCount(): number {
    return this.byKey.size;
  }

  subscribersOf(key: string): number {
    return sizeOf(this.byKey.get(key));
  }

  watchersOf(key: string): number {
    return sizeOf(this.watchers.get(key));
  }

  /** The store's change listener; an arrow so it can be handed over as it is. */
  readonly onChange: ChangeListener = (key, value) => {
    const subscribers = this.byKey.get(key);
    if (subscribers !== undefined) {
      const frame = encodeNotification(key, value ?? DELETED_VALUE);
      if (subscribers instanceof Set) for (const subscriber of subscribers) subscriber.notify(frame);
      else subscribers.notify(frame);
    }
    if (value === null ? this.watchers.size !== 0 : this.deletedKeys.size !== 0) this.tellWatchers(key, value);
  };

  private tellWatchers(key: string, value: string | null): void {
    if (value === null) {
      if (!this.watchers.has(key) || this.deletedKeys.has(key)) return;
      this.deletedKeys.add(key);
    } else if (!this.deletedKeys.delete(key)) return;
    // Deleted then re-created within the window: back where the watchers last saw it.
    if (!this.flipped.delete(key)) this.flipped.add(key);
    this.cancelTell ??= this.schedule(this.tell);
  }

  private readonly tell = (): void => {
    this.cancelTell = null;
    const keys = [...this.flipped];
    this.flipped.clear();
    for (const key of keys) {
      const event = this.deletedKeys.has(key) ? KEY_DELETED : KEY_CREATED;
      const watchers = this.watchers.get(key);
      // A copy: a watcher may stop watching while it is told.
      if (watchers instanceof Set) for (const watcher of [...watchers]) watcher(event);
      else watchers?.(event);
    }
  };
}
