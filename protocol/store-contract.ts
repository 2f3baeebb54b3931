/**
 * The one seam between the actors and the store that holds the data: the embedded in-memory store
 * (runtime/store/memory-store.ts) and the store on Redis (runtime/redis/store.ts) both offer it, `runtime/`
 * chooses one at start-up and hands it to the actors as input, and neither knows the other.
 *
 * It is async, because Redis answers later. For one store, batches settle in the order `apply`
 * was called (the in-memory store applies them in the call itself; Redis runs them pipelined on
 * one connection), so a caller may keep several in flight and answer each as it settles.
 */
/**
 * One batch checked by `checkBatch`, as it comes off the bus, and its results, both laid out by
 * protocol/batch-codec.ts.
 */
export type StoreBatch = Uint8Array;
export type StoreResults = Uint8Array;

/** `value` null: the key was deleted. Strings are byte strings (latin1, one char per byte). */
export type ChangeListener = (key: string, value: string | null) => void;

/**
 * A point-in-time copy of the whole store, taken by a BACKUP. Pairs come in no order and a key
 * may come twice (with the same value): the reader sorts and de-duplicates.
 */
export interface StoreSnapshot {
  /** Up to about `maxPairs` pairs as a flat key, value... array; null once all is read. */
  next(maxPairs: number): Promise<string[] | null>;
  /** Lets the store drop the copy. Idempotent. */
  release(): Promise<void>;
  /**
   * Where another process can read the copy by itself (a backup child), or null when the copy
   * lives in this process and must be streamed to the child.
   */
  readonly remote: RemoteSnapshot | null;
}

/** Plain data: a copy on Redis, its key and how many pairs it held when made. */
export interface RemoteSnapshot {
  /** The store's URL, credentials included (only ever sent to our own backup child). */
  readonly url: string;
  readonly key: string;
  readonly pairs: number;
}

export interface KvStore {
  /** How messages name the store: `memory`, or the Redis URL without its password. */
  readonly describe: string;
  /** Commands applied by this process since the start (the progress line's commands/s). */
  readonly commandsApplied: number;
  /** The error that ended the store (Redis gone), or null while it is usable. */
  readonly failure: Error | null;
  /**
   * Applies one batch atomically for everyone who shares the store and settles with its results.
   * A BACKUP ends its batch; `onBackup(n, snapshot)` is called for it before the promise settles,
   * with the copy taken at the BACKUP's place in the batch. Rejects (naming the store) when the
   * batch could not be applied, or might not have been: never a part of a batch.
   */
  apply(ops: StoreBatch, onBackup: (n: number, snapshot: StoreSnapshot) => void): Promise<StoreResults>;
  /** Whether the key is in the store now (SUBSCRIBE's check). */
  has(key: string): Promise<boolean>;
  /** The number of keys now. */
  size(): Promise<number>;
  /**
   * Tells `onChange` of every change, in the one order the store applied them (with Redis: the
   * changes of every host). Resolves once every change applied from then on will be told; the
   * returned function stops it.
   */
  watch(onChange: ChangeListener): Promise<() => Promise<void>>;
  /** Called once if the store fails for good (Redis gone); the returned function unregisters. */
  onFailure(listener: (error: Error) => void): () => void;
  /** Closes connections. Idempotent. */
  close(): Promise<void>;
}
