/**
 * A hash table from byte strings to byte strings, both 1 to MAX_STRING_BYTES bytes, kept off the
 * garbage-collected heap: the store's data and its snapshots' undo logs. Keys are looked up from
 * the bytes where they lie (a batch off the bus), so no string is made for them.
 *
 * Two parts, so that a lookup costs one cache miss in each:
 * - the index: open addressing with linear probing over an Int32Array of [hash, entry + 1] slots
 *   (0: empty), at most half full; a delete shifts the following slots back (no tombstones), and
 *   growing rehashes from the stored hashes without touching the entries;
 * - the entries: fixed slots of [key length, key bytes, value length, value bytes] in pages that
 *   never move, so growing copies no key, and an entry keeps its number while it lives (the
 *   snapshots walk the entries by number while the store changes). A deleted entry's number is
 *   reused; a free entry has key length 0.
 *
 * A value of length 0 is allowed ("no value": an undo log's mark for a key that was absent).
 */
import { MAX_STRING_BYTES } from '../../protocol/keys.js';

const VALUE_AT = 1 + MAX_STRING_BYTES;
/** Bytes of an entry: a length byte and room for MAX_STRING_BYTES, twice. */
export const ENTRY_BYTES = 2 * VALUE_AT;
const PAGE_BITS = 14;
const PAGE_ENTRIES = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_ENTRIES - 1;
const FIRST_PAGE_ENTRIES = 16;
const MIN_SLOTS = 16;

/** The hash of `len` bytes at `at` (FNV-1a, then a finalizer that spreads every bit to the low ones). */
export function hashBytes(src: Uint8Array, at: number, len: number): number {
  let h = 0x811c9dc5 ^ len;
  for (let i = at, end = at + len; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class ByteTable {
  /** [hash, entry + 1] per slot; a power of two slots. */
  private index: Int32Array;
  private mask: number;
  private readonly pages: Uint8Array[] = [];
  /** Numbers of deleted entries, to reuse. */
  private readonly free: number[] = [];
  /** Entries numbered so far: every live entry is below it. */
  private top = 0;
  /** Keys in the table. */
  size = 0;
  /** What `prefetch` read, kept so the reads are not optimized away. */
  private touched = 0;

  constructor(slots = MIN_SLOTS) {
    let n = MIN_SLOTS;
    while (n < slots) n *= 2;
    this.index = new Int32Array(2 * n);
    this.mask = n - 1;
  }

  /** Entries numbered so far (an upper bound for `keyLength` walks). */
  get entryCount(): number {
    return this.top;
  }

  /**
   * The index slot holding the key, or `-1 - slot` for the empty slot where it would go (valid
   * until the next `insert` or `remove`).
   */
  find(src: Uint8Array, at: number, len: number, hash: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const entry = index[2 * i + 1]!;
      if (entry === 0) return -1 - i;
      if (index[2 * i] === hash && this.keyIs(entry - 1, src, at, len)) return i;
    }
  }

  /**
   * Reads the index slots and then the entries that `count` keys' hashes point at, without using
   * them: a batch's lookups are independent, so reading all their cache lines first lets the
   * misses overlap instead of coming one after another. In two tight passes (every slot, then
   * every entry), not one per key: a key's entry depends on its slot, and a loop that reads both
   * for each key keeps few misses in flight. `entries` is scratch, at least `count` long.
   */
  prefetch(hashes: Int32Array, count: number, entries: Int32Array): void {
    const index = this.index;
    const mask = this.mask;
    for (let k = 0; k < count; k++) {
      // The slot with the key's hash (most often its home slot; the next ones lie on the same line).
      const hash = hashes[k]!;
      let i = hash & mask;
      let entry = index[2 * i + 1]!;
      while (entry !== 0 && index[2 * i] !== hash) {
        i = (i + 1) & mask;
        entry = index[2 * i + 1]!;
      }
      entries[k] = entry;
    }
    const pages = this.pages;
    let touched = this.touched;
    for (let k = 0; k < count; k++) {
      const entry = entries[k]! - 1;
      if (entry >= 0) touched ^= pages[entry >>> PAGE_BITS]![(entry & PAGE_MASK) * ENTRY_BYTES]!;
    }
    this.touched = touched;
  }

  /** The entry number in a slot found by `find`. */
  entryAt(slot: number): number {
    return this.index[2 * slot + 1]! - 1;
  }

  /** Adds a key known to be absent at the empty slot `find` gave (`-1 - result`); returns its entry. */
  insert(slot: number, src: Uint8Array, at: number, len: number, hash: number): number {
    const entry = this.free.length > 0 ? this.free.pop()! : this.top++;
    const page = entry >>> PAGE_BITS;
    let o = (entry & PAGE_MASK) * ENTRY_BYTES;
    const bytes = o < (this.pages[page]?.length ?? 0) ? this.pages[page]! : this.growPage(page);
    bytes[o++] = len;
    for (let i = at, end = at + len; i < end; i++) bytes[o++] = src[i]!;
    this.index[2 * slot] = hash;
    this.index[2 * slot + 1] = entry + 1;
    if (++this.size > (this.mask + 1) >>> 1) this.grow();
    return entry;
  }

  /** Deletes the key in `slot` (from `find`), shifting back the slots after it that may move. */
  remove(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    const entry = index[2 * slot + 1]! - 1;
    this.pages[entry >>> PAGE_BITS]![(entry & PAGE_MASK) * ENTRY_BYTES] = 0;
    this.free.push(entry);
    this.size--;
    let hole = slot;
    for (let j = (slot + 1) & mask; index[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = index[2 * j]! & mask;
      // The slot at j may fill the hole when the hole lies between its home and j.
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[2 * hole] = index[2 * j]!;
        index[2 * hole + 1] = index[2 * j + 1]!;
        hole = j;
      }
    }
    index[2 * hole] = 0;
    index[2 * hole + 1] = 0;
  }

  /** The bytes an entry lies in (see `keyAt`, `valueAt`). */
  pageOf(entry: number): Uint8Array {
    return this.pages[entry >>> PAGE_BITS]!;
  }

  /** The key length of an entry below `entryCount`; 0 when the entry is free. */
  keyLength(entry: number): number {
    return this.pages[entry >>> PAGE_BITS]![(entry & PAGE_MASK) * ENTRY_BYTES]!;
  }

  valueLength(entry: number): number {
    return this.pages[entry >>> PAGE_BITS]![(entry & PAGE_MASK) * ENTRY_BYTES + VALUE_AT]!;
  }

  /** Sets an entry's value from `len` bytes at `at` (0: no value). */
  setValue(entry: number, src: Uint8Array, at: number, len: number): void {
    const bytes = this.pages[entry >>> PAGE_BITS]!;
    let o = (entry & PAGE_MASK) * ENTRY_BYTES + VALUE_AT;
    bytes[o++] = len;
    for (let i = at, end = at + len; i < end; i++) bytes[o++] = src[i]!;
  }

  /** Where an entry's key (length byte first) is in `pageOf(entry)`. */
  keyAt(entry: number): number {
    return (entry & PAGE_MASK) * ENTRY_BYTES;
  }

  /** Where an entry's value (length byte first) is in `pageOf(entry)`. */
  valueAt(entry: number): number {
    return (entry & PAGE_MASK) * ENTRY_BYTES + VALUE_AT;
  }

  private keyIs(entry: number, src: Uint8Array, at: number, len: number): boolean {
    const bytes = this.pages[entry >>> PAGE_BITS]!;
    let o = (entry & PAGE_MASK) * ENTRY_BYTES;
    if (bytes[o++] !== len) return false;
    for (let i = at, end = at + len; i < end; i++) if (bytes[o++] !== src[i]) return false;
    return true;
  }

  /**
   * Makes room for the next entry of a page: a new page, or, for the first one, which starts
   * small (a snapshot's undo log often holds a few keys), a copy twice as large.
   */
  private growPage(page: number): Uint8Array {
    const old = this.pages[page];
    const entries = old === undefined ? (page === 0 ? FIRST_PAGE_ENTRIES : PAGE_ENTRIES) : Math.min(PAGE_ENTRIES, (2 * old.length) / ENTRY_BYTES);
    const bytes = new Uint8Array(entries * ENTRY_BYTES);
    if (old !== undefined) bytes.set(old);
    this.pages[page] = bytes;
    return bytes;
  }

  /** Doubles the index; the stored hashes place every key again, the entries stay where they are. */
  private grow(): void {
    const old = this.index;
    const slots = 2 * (this.mask + 1);
    const index = new Int32Array(2 * slots);
    const mask = slots - 1;
    for (let s = 0; s < old.length; s += 2) {
      const entry = old[s + 1]!;
      if (entry === 0) continue;
      const hash = old[s]!;
      let i = hash & mask;
      while (index[2 * i + 1] !== 0) i = (i + 1) & mask;
      index[2 * i] = hash;
      index[2 * i + 1] = entry;
    }
    this.index = index;
    this.mask = mask;
  }
}
