/**
 * Reading a point-in-time copy that the batch script left in Redis (for a BACKUP, or a big
 * SHOW): HSCAN a chunk at a time, so neither Redis nor Node builds one reply of the whole
 * store; then sort by bytes, format with protocol/output.ts (the SHOW formatter), and UNLINK the
 * copy. It needs only a connection and the copy's name and size (`SnapshotRef`, plain data), so
 * a backup child can read it on a connection of its own.
 */
import type { Redis } from 'ioredis';
import { compareKeys } from '../../protocol/keys.js';
import type { Compat } from '../../protocol/compat.js';
import { formatPairs } from '../../protocol/output.js';
import type { RemoteSnapshot, StoreSnapshot } from '../../protocol/store-contract.js';
import { RedisStoreError, closeRedis, connectPrimary, errorText, parseRedisUrl, stallMs, stallText, withinStall } from './connection.js';

/** A copy made by the batch script: its key, and how many pairs it held when made. */
export interface SnapshotRef {
  readonly key: string;
  readonly pairs: number;
}

export class RedisSnapshot implements StoreSnapshot {
  private cursor = '0';
  private done = false;
  private released = false;
  /** With the store's URL, a backup child can read the copy on a connection of its own. */
  readonly remote: RemoteSnapshot | null;

  constructor(
    private readonly client: Redis,
    readonly ref: SnapshotRef,
    private readonly describe: string,
    url?: string,
    /** No answer to a read for this long: Redis is stopped or unreachable, and the read fails. */
    private readonly stallLimitMs = stallMs(),
  ) {
    this.remote = url === undefined ? null : { url, key: ref.key, pairs: ref.pairs };
  }

  /**
   * About `maxPairs` pairs as a flat key, value... array (HSCAN's COUNT is a hint; a small hash
   * comes whole), in no order, a key possibly more than once; null once all is read.
   */
  async next(maxPairs: number): Promise<string[] | null> {
    if (this.released) throw new Error('snapshot read after release');
    while (!this.done) {
      let reply: [Buffer, Buffer[]];
      try {
        reply = await withinStall(this.client.hscanBuffer(this.ref.key, this.cursor, 'COUNT', maxPairs), this.stallLimitMs, () => this.stalled());
      } catch (error) {
        throw new RedisStoreError('REDIS_STORE_LOST', `redis store ${this.describe}: reading snapshot ${this.ref.key}: ${errorText(error)}`, { cause: error });
      }
      this.cursor = reply[0].toString('latin1');
      if (this.cursor === '0') this.done = true;
      if (reply[1].length > 0) return reply[1].map((b) => b.toString('latin1'));
    }
    return null;
  }

  private stalled(): Error {
    return new Error(`no answer for ${stallText(this.stallLimitMs)}: Redis is stopped or unreachable`);
  }

  /** Drops the copy (UNLINK frees it off Redis's main thread). Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      await withinStall(this.client.unlink(this.ref.key), this.stallLimitMs, () => this.stalled());
    } catch (error) {
      throw new RedisStoreError('REDIS_STORE_LOST', `redis store ${this.describe}: dropping snapshot ${this.ref.key}: ${errorText(error)}`, { cause: error });
    }
  }

  /**
   * All the pairs, each key once, sorted by key bytes, as a flat array; then the copy is dropped
   * (even on failure). Fails with REDIS_STORE_SNAPSHOT when the copy no longer holds what the
   * script put there (it expired, or someone deleted it): never a short backup.
   */
  async readSorted(chunkPairs = 1000): Promise<string[]> {
    const { keys, values } = await this.readAll(chunkPairs);
    const order = Array.from(keys.keys()).sort((a, b) => compareKeys(keys[a]!, keys[b]!));
    const flat: string[] = [];
    let previous: string | undefined;
    for (const i of order) {
      if (keys[i] === previous) continue;
      previous = keys[i];
      flat.push(keys[i]!, values[i]!);
    }
    if (flat.length !== 2 * this.ref.pairs) {
      throw new RedisStoreError(
        'REDIS_STORE_SNAPSHOT',
        `redis store ${this.describe}: snapshot ${this.ref.key} holds ${flat.length / 2} pairs, ${this.ref.pairs} were copied (expired or deleted under the reader?)`,
      );
    }
    return flat;
  }

  /** Every pair (in no order, a key possibly twice), then the copy is dropped, even on failure. */
  async readAll(chunkPairs = 1000): Promise<{ keys: string[]; values: string[] }> {
    const keys: string[] = [];
    const values: string[] = [];
    try {
      for (let kv = await this.next(chunkPairs); kv !== null; kv = await this.next(chunkPairs)) {
        for (let i = 0; i < kv.length; i += 2) {
          keys.push(kv[i]!);
          values.push(kv[i + 1]!);
        }
      }
    } finally {
      await this.release();
    }
    return { keys, values };
  }

  /** The `.bck` text: exactly the SHOW lines of the store when the copy was taken. */
  async backupText(compat: Compat, chunkPairs = 1000): Promise<string> {
    return formatPairs(await this.readSorted(chunkPairs), compat);
  }
}

/**
 * `read` on a connection of its own to the primary, closed after. Through a failover (a
 * `redis-sentinel://` store) a read the connection's loss cut short is made again from the start
 * on the new primary (the copy is replicated with the batch that made it), until failover-ms
 * has passed since the loss.
 */
async function onPrimary<T>(url: string, read: (client: Redis, describe: string) => Promise<T>, connectTimeoutMs?: number): Promise<T> {
  const target = parseRedisUrl(url);
  let deadline: number | null = null;
  const again = (error: unknown): boolean => {
    if (target.failover === null || !(error instanceof RedisStoreError) || (error.code !== 'REDIS_STORE_LOST' && error.code !== 'REDIS_STORE_UNREACHABLE')) return false;
    deadline ??= Date.now() + target.failover.failoverMs;
    return Date.now() < deadline;
  };
  for (;;) {
    let lost: RedisStoreError | null = null;
    let client: Redis;
    try {
      client = await connectPrimary(target, 'backup', (error) => (lost = error), connectTimeoutMs);
    } catch (error) {
      // The primary can die between the connect and its role check, as at any other moment.
      if (!again(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      return await read(client, target.describe);
    } catch (error) {
      const failure = lost ?? error;
      if (!again(failure)) throw failure;
    } finally {
      await closeRedis(client);
    }
  }
}

/**
 * What a backup child does: on a connection of its own, reads the copy, returns the `.bck` text
 * and drops the copy. (Writing the file, temp + fsync + rename, stays the child's.)
 */
export function readBackupText(url: string, ref: SnapshotRef, compat: Compat, connectTimeoutMs?: number): Promise<string> {
  return onPrimary(url, (client, describe) => new RedisSnapshot(client, ref, describe).backupText(compat), connectTimeoutMs);
}

/**
 * What a backup child does with a copy on Redis: on a connection of its own, reads every pair
 * (HSCAN, in chunks), then drops the copy (UNLINK), even on failure. Pairs in no order, a key
 * possibly twice; the child sorts, de-duplicates, checks the count against `remote.pairs`, and
 * writes the file (temp + fsync + rename).
 */
export function readRemotePairs(remote: RemoteSnapshot, chunkPairs = 1000): Promise<{ keys: string[]; values: string[] }> {
  return onPrimary(remote.url, (client, describe) => new RedisSnapshot(client, { key: remote.key, pairs: remote.pairs }, describe).readAll(chunkPairs));
}
