/**
 * The change feeds. A plain store's (`ChangeFeed`): a connection of its own (a subscribed RESP2
 * connection can do nothing else) that SUBSCRIBEs to the store's channel and hands each change to
 * a callback, in the one order Redis applied them, for every host alike. It does not reconnect:
 * changes published while it was away would be lost without a word, so a drop is reported
 * through `onLost` instead.
 *
 * A `redis-sentinel://` store's (`StreamFeed`): the batch script appends each batch's changes to
 * a capped stream, replicated with the data; the feed reads it from a replica (so a change is
 * heard only once a replica has it, as its batch's results are released), from the entry after
 * the last one it handed on, and after a failover goes on from there on whatever node the
 * Sentinels name: nothing missed, nothing twice.
 */
import type { Redis } from 'ioredis';
import { BatchReader, Op, checkBatch } from '../../protocol/batch-codec.js';
import { checkToken } from '../../protocol/keys.js';
import { RedisStoreError, type RedisTarget, closeRedis, connectRedis, errorText, parseRedisUrl, peerOf, redisNames, stallMs, stallText, withinStall, withoutStorePrefix } from './connection.js';

/** `value` null: the key was deleted. Strings are byte strings (latin1). */
export type ChangeHandler = (key: string, value: string | null) => void;

export interface Change {
  readonly key: string;
  /** null: deleted. */
  readonly value: string | null;
}

export interface ChangeFeedOptions {
  readonly namespace?: string;
  readonly connectTimeoutMs?: number;
  /** Called once if the connection drops (not after `close()`). */
  readonly onLost?: (error: RedisStoreError) => void;
  /** Told, in words, when a stream feed loses its node and when it reads again elsewhere. */
  readonly onFailover?: (text: string) => void;
}

/**
 * Decodes one published message: a batch's changes, in order (the script publishes its WRITEs as
 * they came and, per DELETE, the keys it deleted, laid out as a batch: protocol/batch-codec.ts).
 * Null for a message that is not one. Anyone with access to the Redis can publish on the
 * channel, so a message that is not such a batch, or holds a key or value no command could have
 * written (a notification frame could not carry it), is not a change at all: none of it is.
 */
export function decodeChanges(message: Uint8Array): Change[] | null {
  const check = checkBatch(message);
  if (!check.ok) return null;
  const changes: Change[] = [];
  const r = new BatchReader(message);
  while (!r.done) {
    const op = r.command();
    if (op !== Op.Write && op !== Op.Delete) return null;
    for (let i = 0; i < r.n; i++) {
      const key = r.token();
      if (checkToken(key, 'key') !== null) return null;
      const value = op === Op.Write ? r.token() : null;
      if (value !== null && checkToken(value, 'value') !== null) return null;
      changes.push({ key, value });
    }
  }
  return changes;
}

export class ChangeFeed {
  private constructor(
    private readonly client: Redis,
    readonly channel: string,
  ) {}

  /** Subscribes; resolves once Redis confirmed, so every change applied after that is delivered. */
  static async open(url: string, onChange: ChangeHandler, options: ChangeFeedOptions = {}): Promise<ChangeFeed> {
    const target = parseRedisUrl(url);
    const { channel } = redisNames(options.namespace ?? 'kvs', target.db);
    const client = await connectRedis(target, 'changes', (error) => options.onLost?.(error), options.connectTimeoutMs);
    client.on('messageBuffer', (from: Buffer, message: Buffer) => {
      if (from.toString('latin1') !== channel) return;
      const changes = decodeChanges(message);
      // Only our own script publishes here; anything else is someone else's message, not a change.
      if (changes !== null) for (const change of changes) onChange(change.key, change.value);
    });
    try {
      await client.subscribe(channel);
    } catch (error) {
      await closeRedis(client);
      throw new RedisStoreError('REDIS_STORE_UNREACHABLE', `redis store ${target.describe}: cannot subscribe to ${channel}: ${errorText(error)}`, { cause: error });
    }
    return new ChangeFeed(client, channel);
  }

  /** Unsubscribes and closes. Idempotent. */
  async close(): Promise<void> {
    await closeRedis(this.client);
  }
}

/** Stream ids as [ms, seq], compared as numbers (`0-0` is before every entry). */
function idParts(id: string): [bigint, bigint] {
  const [ms = '0', seq = '0'] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
}

function idAfter(a: string, b: string): boolean {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  return am > bm || (am === bm && as > bs);
}

/** Entries per XREAD, and how long one waits for a first entry. */
const READ_COUNT = 1000;
const READ_BLOCK_MS = 1000;

type StreamReply = Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;

export class StreamFeed {
  private closed = false;
  private client: Redis;
  private readonly done: Promise<void>;

  private constructor(
    client: Redis,
    private readonly stream: string,
    private lastId: string,
    private readonly url: string,
    private readonly onChange: ChangeHandler,
    private readonly options: ChangeFeedOptions,
  ) {
    this.client = client;
    this.done = this.readLoop();
  }

  /** Connects and starts reading after the stream's newest entry: every change applied from now on is handed on. */
  static async open(url: string, onChange: ChangeHandler, options: ChangeFeedOptions = {}): Promise<StreamFeed> {
    const target = parseRedisUrl(url);
    const { stream } = redisNames(options.namespace ?? 'kvs', target.db);
    const client = await StreamFeed.connect(url, options);
    let lastId = '0-0';
    try {
      const newest = (await client.xrevrange(stream, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      if (newest.length > 0) lastId = newest[0]![0];
    } catch (error) {
      await closeRedis(client);
      throw new RedisStoreError('REDIS_STORE_UNREACHABLE', `redis store ${target.describe}: cannot read the change stream ${stream}: ${errorText(error)}`, { cause: error });
    }
    return new StreamFeed(client, stream, lastId, url, onChange, options);
  }

  /** A replica when the store asks replicas to confirm its batches, else the primary. */
  private static async connect(url: string, options: ChangeFeedOptions, connectTimeoutMs = options.connectTimeoutMs): Promise<Redis> {
    const target = parseRedisUrl(url);
    const role = StreamFeed.fromReplica(target) ? 'slave' : 'master';
    // A drop is seen by the read loop (its XREAD fails); nothing to do on the event itself.
    const client = await connectRedis({ ...target, options: { ...target.options, role } }, 'changes', () => undefined, connectTimeoutMs);
    // Just after a failover the Sentinels can still list the promoted node among the replicas, or
    // name the demoted one before it has synced from the new primary.
    if (role === 'slave' && !(await StreamFeed.isReplica(client))) {
      await closeRedis(client);
      throw new RedisStoreError('REDIS_STORE_UNREACHABLE', `redis store ${target.describe}: the node the Sentinels name as a replica is not one in step with its primary`);
    }
    return client;
  }

  /** Whether the feed reads from a replica: when the store waits for replicas to confirm its batches. */
  private static fromReplica(target: RedisTarget): boolean {
    return (target.failover?.replicas ?? 0) > 0;
  }

  /**
   * A replica in step with its primary: ROLE says `slave` and its link `connected`. A primary
   * demoted by a failover says `slave` at once, and until its first sync from the new primary
   * (`connect`, `connecting`, `sync`) it still serves its own data, changes no replica may have had
   * (a second failover under load did that: a client heard a value twice). After that sync its data
   * is the new primary's.
   */
  private static async isReplica(client: Redis): Promise<boolean> {
    const role = (await client.call('ROLE')) as unknown[];
    return role[0] === 'slave' && String(role[3]) === 'connected';
  }

  private async readLoop(): Promise<void> {
    const target = parseRedisUrl(this.url);
    const failoverMs = target.failover?.failoverMs ?? 0;
    const stall = Math.max(stallMs(), 2 * READ_BLOCK_MS);
    const fromReplica = StreamFeed.fromReplica(target);
    while (!this.closed) {
      let reply: StreamReply;
      try {
        reply = (await withinStall(
          this.client.callBuffer('XREAD', ['COUNT', String(READ_COUNT), 'BLOCK', String(READ_BLOCK_MS), 'STREAMS', this.stream, this.lastId]) as Promise<StreamReply>,
          stall,
          () => new Error(`no answer for ${stallText(stall)}`),
        )) as StreamReply;
        // A replica promoted under the feed (or a demoted primary not yet synced) serves entries
        // no replica may have: a failover could lose them and their batches be applied again. Not
        // handed on: read again, from a replica in step, once they are there.
        if (fromReplica && reply !== null && !(await StreamFeed.isReplica(this.client))) throw new Error('the node the change stream is read from is no longer a replica in step with its primary');
      } catch (error) {
        if (this.closed) return;
        const lost = await this.reconnect(error, failoverMs, target.describe);
        if (lost !== null) {
          this.closed = true;
          this.options.onLost?.(lost);
          return;
        }
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          this.lastId = id.toString('latin1');
          const message = fields[0]?.toString('latin1') === 'c' ? fields[1] : undefined;
          const changes = message === undefined ? null : decodeChanges(message);
          if (changes !== null) for (const change of changes) this.onChange(change.key, change.value);
        }
      }
    }
  }

  /**
   * After a drop: connects again through the Sentinels until `failoverMs` has passed, and checks
   * that the stream there still holds what follows the last entry handed on (a reader further
   * behind than the stream's cap has missed changes). Null when reading can go on.
   */
  private async reconnect(cause: unknown, failoverMs: number, describe: string): Promise<RedisStoreError | null> {
    const started = Date.now();
    const deadline = started + failoverMs;
    let last = cause;
    this.client.disconnect();
    const say = this.options.onFailover ?? (() => undefined);
    say(`redis store ${describe}: the change stream's node stopped answering (${withoutStorePrefix(cause, describe)}); reading it again after ${this.lastId} once the Sentinels name a node, for up to ${stallText(failoverMs)}`);
    while (!this.closed && Date.now() < deadline) {
      try {
        const client = await StreamFeed.connect(this.url, this.options, Math.max(100, Math.min(3000, deadline - Date.now())));
        const oldest = (await client.xrange(this.stream, '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
        // A stream that now begins after the last entry handed on was cut there: what followed it is gone.
        if (oldest.length > 0 && this.lastId !== '0-0' && idAfter(oldest[0]![0], this.lastId)) {
          client.disconnect();
          return new RedisStoreError(
            'REDIS_STORE_LOST',
            `redis store ${describe}: the change stream ${this.stream} now begins at ${oldest[0]![0]}, after ${this.lastId}, the last change heard (more than its cap of changes behind): changes in between are missed`,
          );
        }
        this.client = client;
        say(`redis store ${describe}: the change stream is read again at ${peerOf(client)} after ${((Date.now() - started) / 1000).toFixed(1)} s, from where it was left`);
        return null;
      } catch (error) {
        last = error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (this.closed) return null;
    return new RedisStoreError('REDIS_STORE_LOST', `redis store ${describe}: change stream lost and no node took over within failover-ms: ${errorText(last)}`, { cause: last });
  }

  /** Stops reading and closes. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await closeRedis(this.client);
    await this.done;
  }
}
