/**
 * The change feed: a connection of its own (a subscribed RESP2 connection can do nothing else)
 * that SUBSCRIBEs to the store's channel and hands each change to a callback, in the one order
 * Redis applied them, for every host alike. It does not reconnect: changes published while it
 * was away would be lost without a word, so a drop is reported through `onLost` instead.
 */
import type { Redis } from 'ioredis';
import { checkToken } from '../../protocol/keys.js';
import { RedisStoreError, closeRedis, connectRedis, errorText, parseRedisUrl, redisNames } from './connection.js';

/** `value` null: the key was deleted. Strings are byte strings (latin1). */
export type ChangeHandler = (key: string, value: string | null) => void;

export interface ChangeFeedOptions {
  readonly namespace?: string;
  readonly connectTimeoutMs?: number;
  /** Called once if the connection drops (not after `close()`). */
  readonly onLost?: (error: RedisStoreError) => void;
}

const WRITE = 0x57; // 'W'
const DELETE = 0x44; // 'D'

/**
 * Decodes one published change; null for a message that is not one. Anyone with access to the
 * Redis can publish on the channel, so a key or value that no command could have written (a
 * notification frame could not carry it) is not a change either.
 */
export function decodeChange(message: Buffer): { key: string; value: string | null } | null {
  if (message.length < 3) return null;
  const length = message.readUInt16BE(1);
  if (3 + length > message.length) return null;
  const key = message.toString('latin1', 3, 3 + length);
  if (checkToken(key, 'key') !== null) return null;
  if (message[0] === WRITE) {
    const value = message.toString('latin1', 3 + length);
    return checkToken(value, 'value') === null ? { key, value } : null;
  }
  if (message[0] === DELETE && message.length === 3 + length) return { key, value: null };
  return null;
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
      const change = decodeChange(message);
      // Only our own script publishes here; anything else is someone else's message, not a change.
      if (change !== null) onChange(change.key, change.value);
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
