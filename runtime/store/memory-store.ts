/**
 * The store actor: the only owner of the data, on the main thread. A batch from a job is applied
 * by one call of `apply`, inside one event-loop turn, so every command (and every batch) is atomic.
 *
 * The data is a byte table (byte-table.ts): keys are found from the batch's own bytes, with no
 * string per key, and values go from the table to the results as bytes. A batch is applied in
 * two passes: the first hashes every key and reads the cache lines each will need, so those
 * misses overlap; the second applies the commands in order.
 *
 * Snapshots for BACKUP are O(1): while a snapshot is open, the first change to a key saves the
 * key's old value in the newest snapshot's undo log (a byte table too; an empty value marks a key
 * that was absent). A snapshot reads a key as "the value saved by the oldest log from it onwards,
 * if any, else the current value", so each write is logged once however many snapshots are open.
 */
import { BatchReader, Op, ResultWriter, latin1 } from '../../protocol/batch-codec.js';
import { MAX_STRING_BYTES } from '../../protocol/keys.js';
import type { ChangeListener, KvStore, StoreBatch, StoreResults, StoreSnapshot } from '../../protocol/store-contract.js';
import { ByteTable, hashBytes } from './byte-table.js';

interface OpenSnapshot {
  /** The old values of the keys changed while this snapshot was the newest. */
  readonly log: ByteTable;
  released: boolean;
}

/** A byte string's bytes, written at `at`; its length, or null when no key or value is that long. */
function toBytes(s: string, into: Uint8Array, at: number): number | null {
  if (s.length > MAX_STRING_BYTES) return null;
  for (let i = 0; i < s.length; i++) into[at + i] = s.charCodeAt(i);
  return s.length;
}

export class Store {
  private readonly data = new ByteTable();
  /** Open snapshots, oldest first. Writes log into the last one. */
  private readonly chain: OpenSnapshot[] = [];
  /** The hash of each key of the batch being applied, in batch order (grown as needed). */
  private hashes = new Int32Array(1 << 12);
  /** Scratch for the prefetch of a batch's entries (ByteTable.prefetch). */
  private entries = new Int32Array(1 << 12);
  /** A key, then a value, given as strings (`has`, `get`, `set`, `delete`). */
  private readonly scratch = new Uint8Array(2 * MAX_STRING_BYTES);

  /** Told of every change, in order, inside the turn that makes it (the subscription registry). */
  onChange: ChangeListener | null = null;

  get size(): number {
    return this.data.size;
  }

  has(key: string): boolean {
    return this.entryOf(key) >= 0;
  }

  get(key: string): string | undefined {
    const entry = this.entryOf(key);
    if (entry < 0) return undefined;
    const page = this.data.pageOf(entry);
    const at = this.data.valueAt(entry);
    return latin1(page, at + 1, page[at]!);
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
    const hashes = this.hashKeys(batch);
    const data = this.data;
    const r = new BatchReader(batch);
    let key = 0;
    let commands = 0;
    while (!r.done) {
      commands++;
      const op = r.command();
      if (op === Op.Show) {
        this.show();
        continue;
      }
      const n = r.n;
      switch (op) {
        case Op.Write:
          for (let i = 0; i < n; i++) {
            const kLength = r.skipToken();
            const k = r.tokenStart;
            const vLength = r.skipToken();
            this.put(batch, k, kLength, hashes[key++]!, r.tokenStart, vLength);
          }
          break;
        case Op.Read:
          for (let i = 0; i < n; i++) {
            const kLength = r.skipToken();
            const slot = data.find(batch, r.tokenStart, kLength, hashes[key++]!);
            if (slot < 0) {
              results.absent();
            } else {
              const entry = data.entryAt(slot);
              const at = data.valueAt(entry);
              const page = data.pageOf(entry);
              results.tokenBytes(page, at + 1, at + 1 + page[at]!);
            }
          }
          break;
        case Op.Delete:
          for (let i = 0; i < n; i++) {
            const kLength = r.skipToken();
            const k = r.tokenStart;
            results.missing(!this.remove(batch, k, kLength, hashes[key++]!));
          }
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

  /** Sets a key (`kLength` bytes at `k` in `src`) to a value (`vLength` bytes at `v`). */
  private put(src: Uint8Array, k: number, kLength: number, hash: number, v: number, vLength: number): void {
    const data = this.data;
    const slot = data.find(src, k, kLength, hash);
    if (this.chain.length !== 0) this.logOld(src, k, kLength, hash, slot);
    const entry = slot >= 0 ? data.entryAt(slot) : data.insert(-1 - slot, src, k, kLength, hash);
    data.setValue(entry, src, v, vLength);
    if (this.onChange !== null) this.onChange(latin1(src, k, kLength), latin1(src, v, vLength));
  }

  /** Deletes a key; false when it was missing. */
  private remove(src: Uint8Array, k: number, kLength: number, hash: number): boolean {
    const slot = this.data.find(src, k, kLength, hash);
    if (slot < 0) return false;
    if (this.chain.length !== 0) this.logOld(src, k, kLength, hash, slot);
    this.data.remove(slot);
    if (this.onChange !== null) this.onChange(latin1(src, k, kLength), null);
    return true;
  }

  /** A WRITE of one pair given as byte strings (benchmarks and tests fill stores this way). */
  set(key: string, value: string): void {
    const kLength = toBytes(key, this.scratch, 0);
    const vLength = toBytes(value, this.scratch, MAX_STRING_BYTES);
    if (kLength === null || vLength === null) throw new RangeError(`store: a key or value longer than ${MAX_STRING_BYTES} bytes`);
    this.put(this.scratch, 0, kLength, hashBytes(this.scratch, 0, kLength), MAX_STRING_BYTES, vLength);
  }

  /** A DELETE of one key given as a byte string; false when it was missing. */
  delete(key: string): boolean {
    const length = toBytes(key, this.scratch, 0);
    return length !== null && this.remove(this.scratch, 0, length, hashBytes(this.scratch, 0, length));
  }

  /**
   * The first pass of `apply`: every key's hash, in batch order; then every key's index slot and
   * entry read (ByteTable.prefetch: the reads of different keys do not wait for each other, so
   * their misses overlap and the second pass finds the lines in cache).
   */
  private hashKeys(batch: Uint8Array): Int32Array {
    const r = new BatchReader(batch);
    const data = this.data;
    let hashes = this.hashes;
    let key = 0;
    while (!r.done) {
      const op = r.command();
      const n = r.n;
      if (op === Op.Show || op === Op.Backup) continue;
      if (key + n > hashes.length) {
        const grown = new Int32Array(2 * (key + n));
        grown.set(hashes.subarray(0, key));
        this.hashes = hashes = grown;
      }
      for (let i = 0; i < n; i++) {
        const length = r.skipToken();
        hashes[key++] = hashBytes(batch, r.tokenStart, length);
        if (op === Op.Write) r.skipToken();
      }
    }
    if (this.entries.length < key) this.entries = new Int32Array(hashes.length);
    data.prefetch(hashes, key, this.entries);
    return hashes;
  }

  /** A SHOW's results: every pair, in entry order. */
  private show(): void {
    const data = this.data;
    const results = this.results;
    results.pairCount(data.size);
    for (let entry = 0, end = data.entryCount; entry < end; entry++) {
      const page = data.pageOf(entry);
      const k = data.keyAt(entry);
      if (page[k] === 0) continue;
      const v = data.valueAt(entry);
      results.tokenBytes(page, k + 1, k + 1 + page[k]!);
      results.tokenBytes(page, v + 1, v + 1 + page[v]!);
    }
  }

  /**
   * Saves a key's value before its first change under the newest snapshot: its value (from the
   * data's `slot`), or the mark of an absent key (`slot` < 0).
   */
  private logOld(src: Uint8Array, at: number, length: number, hash: number, slot: number): void {
    const log = this.chain[this.chain.length - 1]!.log;
    const logged = log.find(src, at, length, hash);
    if (logged >= 0) return;
    const saved = log.insert(-1 - logged, src, at, length, hash);
    if (slot < 0) {
      log.setValue(saved, src, at, 0);
    } else {
      const entry = this.data.entryAt(slot);
      const page = this.data.pageOf(entry);
      const v = this.data.valueAt(entry);
      log.setValue(saved, page, v + 1, page[v]!);
    }
  }

  private entryOf(key: string): number {
    const length = toBytes(key, this.scratch, 0);
    if (length === null) return -1;
    const slot = this.data.find(this.scratch, 0, length, hashBytes(this.scratch, 0, length));
    return slot < 0 ? -1 : this.data.entryAt(slot);
  }

  /** Takes an O(1) snapshot of the whole store; read it in chunks, then release it. */
  snapshot(): SnapshotReader {
    const state: OpenSnapshot = { log: new ByteTable(), released: false };
    this.chain.push(state);
    return new SnapshotReader(this.data, this.chain, state);
  }
}

/**
 * Reads a snapshot a chunk at a time, while the store goes on changing. Pairs come in no
 * particular order and a key may come twice (with the same value): the reader sorts and
 * de-duplicates. Phase 1 walks the live entries by number (an entry keeps its number while it
 * lives; one made or reused since the snapshot holds a logged key), skipping keys changed since
 * the snapshot; phase 2 walks the undo logs and yields the saved values of those keys.
 */
export class SnapshotReader {
  private phase: 1 | 2 | 3 = 1;
  /** The next entry to read, of the data in phase 1, of `log` in phase 2. */
  private entry = 0;
  private log: OpenSnapshot;

  constructor(
    private readonly data: ByteTable,
    private readonly chain: OpenSnapshot[],
    private readonly state: OpenSnapshot,
  ) {
    this.log = state;
  }

  /** Up to `maxPairs` pairs as a flat key, value... array; null once the snapshot is all read. */
  next(maxPairs: number): string[] | null {
    if (this.phase === 3) return null;
    const out: string[] = [];
    const from = this.chain.indexOf(this.state);
    if (from < 0) throw new Error('snapshot read after release');
    while (this.phase === 1 && out.length < 2 * maxPairs) {
      if (this.entry >= this.data.entryCount) {
        this.phase = 2;
        this.entry = 0;
        break;
      }
      this.take(this.data, this.entry++, from, this.chain.length, out);
    }
    while (this.phase === 2 && out.length < 2 * maxPairs) {
      const log = this.log.log;
      if (this.entry >= log.entryCount) {
        const following = this.chain[this.chain.indexOf(this.log) + 1];
        if (following === undefined) {
          this.phase = 3;
          break;
        }
        this.log = following;
        this.entry = 0;
        continue;
      }
      this.take(log, this.entry++, from, this.chain.indexOf(this.log), out);
    }
    return out.length === 0 && this.phase === 3 ? null : out;
  }

  /** Adds an entry's pair to `out` unless it is free, marks an absent key, or a log in chain[from..to) holds its key. */
  private take(table: ByteTable, entry: number, from: number, to: number, out: string[]): void {
    const page = table.pageOf(entry);
    const k = table.keyAt(entry);
    const v = table.valueAt(entry);
    const length = page[k]!;
    if (length === 0 || page[v] === 0) return;
    const hash = hashBytes(page, k + 1, length);
    for (let i = from; i < to; i++) if (this.chain[i]!.log.find(page, k + 1, length, hash) >= 0) return;
    out.push(latin1(page, k + 1, length), latin1(page, v + 1, page[v]!));
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
