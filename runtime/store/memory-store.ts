/**
 * The store actor: the only owner of the data, on the main thread. A batch from a job is applied
 * by one call of `apply`, inside one event-loop turn, so every command (and every batch) is atomic.
 *
 * Snapshots for BACKUP are O(1) and keep `Map` speed: while a snapshot is open, the first change
 * to a key saves the key's old value in the newest snapshot's undo log. A snapshot reads a key as
 * "the value saved by the oldest log from it onwards, if any, else the current value", so each
 * write is logged once however many snapshots are open.
 */
import { BatchReader, Op, ResultWriter } from '../../protocol/batch-codec.js';
import type { ChangeListener, KvStore, StoreBatch, StoreResults, StoreSnapshot } from '../../protocol/store-contract.js';

type UndoLog = Map<string, string | undefined>;

interface OpenSnapshot {
  readonly log: UndoLog;
  released: boolean;
}

export class Store {
  private readonly data = new Map<string, string>();
  /** Open snapshots, oldest first. Writes log into the last one. */
  private readonly chain: OpenSnapshot[] = [];

  /** Told of every change, in order, inside the turn that makes it (the subscription registry). */
  onChange: ChangeListener | null = null;

  get size(): number {
    return this.data.size;
  }

  has(key: string): boolean {
    return this.data.has(key);
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  /** Commands applied since the start, for the progress line's commands/s (read, not evented). */
  commandsApplied = 0;

  /** Number of snapshots not yet released (for tests and the progress line). */
  get openSnapshots(): number {
    return this.chain.length;
  }

  /** Reused for every batch's results: `apply` hands out a copy. */
  private readonly results = new ResultWriter();

  /**
   * Applies a batch checked by `checkBatch` (protocol/batch-codec.ts) and returns its results.
   * `onBackup(n)` is called at the BACKUP's place in the batch, so a snapshot taken there sees
   * exactly the commands before it.
   */
  apply(batch: Uint8Array, onBackup: (n: number) => void): Uint8Array {
    const results = this.results;
    results.length = 0; // a batch that threw (a bug) leaves nothing behind
    const data = this.data;
    const r = new BatchReader(batch);
    let commands = 0;
    while (!r.done) {
      commands++;
      const op = r.command();
      const n = r.n;
      switch (op) {
        case Op.Show:
          results.pairCount(data.size);
          for (const [k, v] of data) results.pair(k, v);
          break;
        case Op.Write:
          if (this.chain.length === 0 && this.onChange === null) {
            // The common case, kept free of calls: no snapshot to log for, nobody to tell.
            for (let i = 0; i < n; i++) data.set(r.key(), r.token());
          } else {
            for (let i = 0; i < n; i++) this.set(r.key(), r.token());
          }
          break;
        case Op.Read:
          for (let i = 0; i < n; i++) results.value(data.get(r.key()));
          break;
        case Op.Delete:
          for (let i = 0; i < n; i++) results.missing(!this.delete(r.key()));
          break;
        case Op.Backup:
          onBackup(n);
          break;
        default:
          throw new Error(`store: unknown op ${op} before byte ${r.at}`);
      }
    }
    this.commandsApplied += commands;
    return results.take();
  }

  set(key: string, value: string): void {
    const open = this.chain.length;
    if (open !== 0) {
      const log = this.chain[open - 1]!.log;
      if (!log.has(key)) log.set(key, this.data.get(key));
    }
    this.data.set(key, value);
    if (this.onChange !== null) this.onChange(key, value);
  }

  delete(key: string): boolean {
    const old = this.data.get(key);
    if (old === undefined) return false;
    const open = this.chain.length;
    if (open !== 0) {
      const log = this.chain[open - 1]!.log;
      if (!log.has(key)) log.set(key, old);
    }
    this.data.delete(key);
    if (this.onChange !== null) this.onChange(key, null);
    return true;
  }

  /** Takes an O(1) snapshot of the whole store; read it in chunks, then release it. */
  snapshot(): SnapshotReader {
    const state: OpenSnapshot = { log: new Map(), released: false };
    this.chain.push(state);
    return new SnapshotReader(this.data, this.chain, state);
  }
}

/**
 * Reads a snapshot a chunk at a time, while the store goes on changing. Pairs come in no
 * particular order and a key may come twice (with the same value): the reader sorts and
 * de-duplicates. Phase 1 walks the live map, skipping keys changed since the snapshot; phase 2
 * walks the undo logs and yields the saved values of those keys.
 */
export class SnapshotReader {
  private phase: 1 | 2 | 3 = 1;
  /** Keys, not entries: an entry would be a fresh [key, value] array per pair, a million for nothing. */
  private readonly keyIterator: Iterator<string>;
  private log: OpenSnapshot | undefined;
  private logIterator: Iterator<[string, string | undefined]> | undefined;

  constructor(
    private readonly data: Map<string, string>,
    private readonly chain: OpenSnapshot[],
    private readonly state: OpenSnapshot,
  ) {
    this.keyIterator = data.keys();
  }

  /** Up to `maxPairs` pairs as a flat key, value... array; null once the snapshot is all read. */
  next(maxPairs: number): string[] | null {
    if (this.phase === 3) return null;
    const out: string[] = [];
    const from = this.chain.indexOf(this.state);
    if (from < 0) throw new Error('snapshot read after release');
    if (this.phase === 1) {
      while (out.length < 2 * maxPairs) {
        const step = this.keyIterator.next();
        if (step.done === true) {
          this.phase = 2;
          break;
        }
        const key = step.value;
        if (!this.changedSince(from, this.chain.length, key)) out.push(key, this.data.get(key)!);
      }
    }
    while (this.phase === 2 && out.length < 2 * maxPairs) {
      if (this.logIterator === undefined) {
        this.log = this.state;
        this.logIterator = this.state.log.entries();
      }
      const step = this.logIterator.next();
      if (step.done === true) {
        const at = this.chain.indexOf(this.log!);
        const following = this.chain[at + 1];
        if (following === undefined) {
          this.phase = 3;
          break;
        }
        this.log = following;
        this.logIterator = following.log.entries();
        continue;
      }
      const [key, saved] = step.value;
      const at = this.chain.indexOf(this.log!);
      if (saved !== undefined && !this.changedSince(from, at, key)) out.push(key, saved);
    }
    return out.length === 0 && this.phase === 3 ? null : out;
  }

  /** Whether a log in chain[from..to) holds the key. */
  private changedSince(from: number, to: number, key: string): boolean {
    for (let i = from; i < to; i++) if (this.chain[i]!.log.has(key)) return true;
    return false;
  }

  /** Lets the store stop logging for this snapshot. Idempotent. */
  release(): void {
    if (this.state.released) return;
    this.state.released = true;
    this.phase = 3;
    while (this.chain.length > 0 && this.chain[0]!.released) this.chain.shift();
  }
}

/**
 * The in-memory store behind the store seam (protocol/store-contract.ts): each batch is applied
 * in the `apply` call itself, inside one turn, and settles at once; a BACKUP's snapshot is taken
 * at its place in the batch. It never fails.
 */
export class MemoryStore implements KvStore {
  readonly describe = 'memory';
  readonly failure = null;

  constructor(readonly store: Store = new Store()) {}

  get commandsApplied(): number {
    return this.store.commandsApplied;
  }

  apply(batch: StoreBatch, onBackup: (n: number, snapshot: StoreSnapshot) => void): Promise<StoreResults> {
    try {
      return Promise.resolve(this.store.apply(batch, (n) => onBackup(n, new MemorySnapshot(this.store.snapshot()))));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  has(key: string): Promise<boolean> {
    return Promise.resolve(this.store.has(key));
  }

  size(): Promise<number> {
    return Promise.resolve(this.store.size);
  }

  watch(onChange: ChangeListener): Promise<() => Promise<void>> {
    if (this.store.onChange !== null) return Promise.reject(new Error('memory store: already watched'));
    this.store.onChange = onChange;
    return Promise.resolve(async () => {
      if (this.store.onChange === onChange) this.store.onChange = null;
    });
  }

  onFailure(): () => void {
    return () => undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A `SnapshotReader` behind the seam's async snapshot. */
export class MemorySnapshot implements StoreSnapshot {
  readonly remote = null;

  constructor(private readonly reader: SnapshotReader) {}

  next(maxPairs: number): Promise<string[] | null> {
    try {
      return Promise.resolve(this.reader.next(maxPairs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  release(): Promise<void> {
    this.reader.release();
    return Promise.resolve();
  }
}
