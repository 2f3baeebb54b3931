/**
 * The change feed: a connection of its own (a subscribed RESP2 connection can do nothing else)
 * that SUBSCRIBEs to the store's channel and hands each change to a callback, in the one order
 * Redis applied them, for every host alike. It does not reconnect: changes published while it
 * was away would be lost without a word, so a drop is reported through `onLost` instead.
 */
import type { Redis } from 'ioredis';
import { BatchReader, Op, checkBatch } from '../../protocol/batch-codec.js';
import { checkToken } from '../../protocol/keys.js';
import { RedisStoreError, closeRedis, connectRedis, errorText, parseRedisUrl, redisNames } from './connection.js';

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
