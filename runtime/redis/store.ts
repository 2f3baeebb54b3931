/**
 * The store on Redis: the same batches (protocol/batch-codec.ts), the same results as the in-memory
 * store's `apply` (runtime/store/memory-store.ts), applied by one Lua script (runtime/redis/batch-script.ts)
 * per batch, so every command and every batch is atomic for every host sharing the Redis.
 *
 * Bytes end to end: a batch goes to Redis as the job worker wrote it (protocol/batch-codec.ts), one
 * argument, and its results come back in the same layout, never through UTF-8 or JavaScript strings.
 *
 * Batches are pipelined on one connection, so Redis applies them in the order `apply` was
 * called. The script is loaded once and run by its SHA; when Redis answers NOSCRIPT (its script
 * cache was flushed), the store stops sending, lets what is in flight answer, loads the script
 * again and resends the refused batches in their order; should a later batch have got through
 * meanwhile (another host loaded the script in between), resending would reorder them, so the
 * refused ones fail instead.
 *
 * A `redis-sentinel://` store lives through a failover of its primary (docs/redis.md, "A primary
 * with replicas"): every batch carries its run's id and a sequence number, and its script records
 * both, with its answer, in the run's record, atomically with its writes. A batch's answer is
 * released only once `replicas` replicas have it (one WAIT after the batches sent before it).
 * When the connection drops, new batches are held; the store asks the Sentinels for the primary
 * until one answers as a primary, reads its run's record there, takes the answers of its batches
 * that were applied and resends the others, in order. Past `failover-ms`, it fails as a plain
 * store does.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { ResultWriter, checkBatch } from '../../protocol/batch-codec.js';
import type { ChangeListener, KvStore, StoreSnapshot } from '../../protocol/store-contract.js';
import { ChangeFeed, StreamFeed } from './changes.js';
import { BATCH_SCRIPT } from './batch-script.js';
import { PROBE_SCRIPT } from './permissions.js';
import {
  RedisStoreError,
  closeRedis,
  connectPrimary,
  DEFAULT_CONNECT_TIMEOUT_MS,
  errorText,
  isConnectionGone,
  peerOf,
  withoutStorePrefix,
  parseRedisUrl,
  redisNames,
  stallMs,
  stallText,
  type FailoverSettings,
  type RedisNames,
  type RedisTarget,
} from './connection.js';
import { RedisSnapshot, type SnapshotRef } from './snapshot.js';

export interface RedisStoreOptions {
  /** Keys and the channel are named after it (default `kvs`): one keyspace per namespace. */
  readonly namespace?: string;
  /** A SHOW of a store up to this many pairs is answered inline; larger ones go through a copy. */
  readonly showInlineMax?: number;
  /** How long a copy (SHOW or BACKUP) may live unread before Redis drops it (default 1 h). */
  readonly copyTtlMs?: number;
  readonly connectTimeoutMs?: number;
  /** Called once when the connection drops; every later `apply` rejects with the same error. */
  readonly onLost?: (error: RedisStoreError) => void;
  /** Batches in flight and no answer for this long: the store is lost (default: redis-connection.ts's stallMs()). */
  readonly stallMs?: number;
  /** Told, in words, when a `redis-sentinel://` store loses its primary and when a new one takes over. */
  readonly onFailover?: (text: string) => void;
}

export const DEFAULT_SHOW_INLINE_MAX = 1000;
export const DEFAULT_COPY_TTL_MS = 3_600_000;
/** A run's record outlives the run by this much (it is read only after a failover under the run). */
const RUN_RECORD_TTL_MS = 86_400_000;
/** The change stream keeps about this many batches' changes: a reader this far behind has missed some. */
export const STREAM_CAP = 100_000;
/** One WAIT's own timeout: asked again until a replica confirms or failover-ms passes. */
const WAIT_STEP_MS = 1000;
/** A plain store's script arguments past the batch: no stream, no run record (batch-script.ts). */
const PLAIN_RECORD_ARGS: readonly string[] = ['', '0', '', '0', '0', '0'];
/** Pairs asked of HSCAN at a time when a SHOW is read from its copy. */
const SHOW_SCAN_COUNT = 1000;

/**
 * Called for each BACKUP, in batch order, once the batch is applied: its copy, to read and
 * release (here, or in a backup child from `snapshot.remote`, which is plain data).
 */
export type OnRedisBackup = (n: number, snapshot: RedisSnapshot & StoreSnapshot) => void;

interface Pending {
  readonly keys: string[];
  readonly args: (string | Buffer)[];
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Position in the send order; also the batch's sequence number in its run's record. */
  readonly sent: number;
  /** The script's answer, once it came (a store that waits for replicas holds it until then). */
  reply?: unknown;
  /** The number of the WAIT that confirms this batch (the first sent after it). */
  wait?: number;
}

/** A run's record entry: "<seq> " then the answer, as batch-script.ts writes it. */
function readRecordEntry(entry: Buffer): { seq: number; reply: [Buffer[], number[]] } {
  const space = entry.indexOf(0x20);
  const seq = Number(entry.subarray(0, space).toString('latin1'));
  let at = space + 1;
  const u32 = () => {
    const n = entry.readUInt32LE(at);
    at += 4;
    return n;
  };
  const segments: Buffer[] = [];
  for (let n = u32(); n > 0; n--) {
    const length = u32();
    segments.push(entry.subarray(at, at + length));
    at += length;
  }
  const sizes: number[] = [];
  for (let n = u32(); n > 0; n--) sizes.push(u32() - 1);
  return { seq, reply: [segments, sizes] };
}

/** A byte string as a Redis argument (ioredis would write a string as UTF-8). */
function arg(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export class RedisStore implements KvStore {
  /** Commands applied by this store since it started (the progress line's commands/s). */
  commandsApplied = 0;

  private sha = '';
  private lost: RedisStoreError | null = null;
  /** A `redis-sentinel://` store's settings; null for a plain one. */
  private readonly failover: FailoverSettings | null;
  /** This run's record (host, pid, a random part): its batches' sequence numbers and answers. */
  private readonly runKey: string;
  /** Batches sent and not yet confirmed, in send order (a store that lives through failovers). */
  private unconfirmed: Pending[] = [];
  private waitsIssued = 0;
  private waitInFlight = false;
  /** When replicas were first asked, and have not yet confirmed, for the batches now waiting. */
  private waitingSince: number | null = null;
  /** Resolves when a failover the store is living through is over (the store is usable or lost). */
  private reconnected: Promise<void> | null = null;
  private highestConfirmed = -1;
  private lastSentAt = 0;
  private say: (text: string) => void = () => undefined;
  /** Set by `close`: a failover under way gives up at once. */
  private closed = false;
  private sentCount = 0;
  private readonly inFlight = new Set<Pending>();
  /** While recovering from NOSCRIPT, new batches are held here, in order. */
  private recovering = false;
  private held: Pending[] = [];
  private refused: Pending[] = [];
  private lastOkSent = -1;
  private readonly failureListeners = new Set<(error: Error) => void>();
  private readonly feeds = new Set<ChangeFeed | StreamFeed>();
  private url = '';
  private namespace = 'kvs';
  /** When a batch was last answered, or sent with none in flight: the stall watch's clock. */
  private lastAnswer = 0;
  private readonly stallWatch: NodeJS.Timeout;

  private constructor(
    private client: Redis,
    readonly target: RedisTarget,
    readonly names: RedisNames,
    private readonly showInlineMax: number,
    private readonly copyTtlMs: number,
    private readonly stallMs: number,
  ) {
    this.failover = target.failover;
    this.runKey = `${names.runPrefix}${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.stallWatch = setInterval(() => this.checkStall(), Math.max(10, Math.min(1000, stallMs / 4)));
    this.stallWatch.unref();
  }

  /**
   * Batches in flight and no answer for stallMs: lost, and the connection dropped, which fails
   * them (a store that lives through failovers looks for a new primary instead).
   */
  private checkStall(): void {
    if (this.inFlight.size === 0 || this.lost !== null || Date.now() - this.lastAnswer < this.stallMs) return;
    if (this.failover !== null) {
      this.client.disconnect();
      return;
    }
    this.fail(
      new RedisStoreError(
        'REDIS_STORE_LOST',
        `redis store ${this.describe}: no answer to a batch for ${stallText(this.stallMs)}: Redis is stopped or unreachable (whether that batch was applied, whole, is unknown)`,
      ),
    );
    this.client.disconnect();
  }

  /** Connects, checks the server, and loads the script; rejects with a RedisStoreError. */
  static async open(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    const target = parseRedisUrl(url);
    const names = redisNames(options.namespace ?? 'kvs', target.db);
    let store: RedisStore | null = null;
    const onLost = (error: RedisStoreError): void => {
      if (store === null) return;
      if (store.failover !== null && store.lost === null) {
        store.liveThrough(error, onLost);
        return;
      }
      store.fail(error);
      options.onLost?.(error);
    };
    const client = await connectPrimary(target, 'store', onLost, options.connectTimeoutMs);
    store = new RedisStore(client, target, names, options.showInlineMax ?? DEFAULT_SHOW_INLINE_MAX, options.copyTtlMs ?? DEFAULT_COPY_TTL_MS, options.stallMs ?? stallMs());
    store.url = url;
    store.namespace = options.namespace ?? 'kvs';
    store.say = options.onFailover ?? (() => undefined);
    try {
      await store.checkEviction();
      await store.checkPermissions();
      await store.loadScript();
    } catch (error) {
      clearInterval(store.stallWatch);
      await closeRedis(client);
      throw error;
    }
    return store;
  }

  get describe(): string {
    return this.target.describe;
  }

  /** The error that ended this store, or null while it is usable. */
  get failure(): RedisStoreError | null {
    return this.lost;
  }

  /**
   * A Redis with `maxmemory` and an `allkeys-*` policy evicts whole keys when it fills, the data
   * hash among them: the store would empty itself without an error, and the jobs go on with wrong
   * READs. `volatile-*` evicts keys with a TTL only (the copies, whose loss is an error already).
   * Read from INFO, which a managed Redis allows where it may refuse CONFIG GET.
   */
  private async checkEviction(): Promise<void> {
    let info: string;
    try {
      info = await this.client.info('memory');
    } catch (error) {
      throw this.wrap(error, 'reading its memory settings');
    }
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? '';
    const maxmemory = Number(/^maxmemory:(\d+)/m.exec(info)?.[1] ?? '0');
    if (maxmemory > 0 && policy.startsWith('allkeys-')) {
      throw new RedisStoreError(
        'REDIS_STORE_REFUSED',
        `redis store ${this.describe}: maxmemory-policy is ${policy}, so a full Redis would evict the store's data; set it to noeviction (or a volatile-* policy)`,
      );
    }
  }

  /**
   * The Redis user may make every call the store makes (runtime/redis/permissions.ts), on its
   * data hash, its copy keys and its change channel: else one error naming each refused call,
   * before anything is written. The batch script checks its own calls again before each batch's
   * first write (an ACL can change under a running host).
   */
  private async checkPermissions(): Promise<void> {
    const user = this.target.options.username ?? 'default';
    const refused = (calls: string): RedisStoreError =>
      new RedisStoreError('REDIS_STORE_REFUSED', `redis store ${this.describe}: the Redis user '${user}' may not run ${calls}: grant it (ACL SETUSER) or use another user; nothing was written`);
    let answer: unknown;
    try {
      const sha = String(await this.client.script('LOAD', PROBE_SCRIPT));
      const [stream, run] = this.failover === null ? ['', ''] : [this.names.stream, this.runKey];
      answer = await this.client.evalsha(sha, 0, this.names.data, this.names.copyPrefix + randomUUID(), this.names.channel, stream, run);
    } catch (error) {
      const text = errorText(error);
      const command = /^NOPERM .*'([^']+)' command/.exec(text)?.[1];
      if (command !== undefined) throw refused(command.replace('|', ' ').toUpperCase());
      throw this.wrap(error, 'checking what its user may do');
    }
    const calls = answer as string[];
    if (calls.length > 0) throw refused(calls.join(', '));
  }

  private async loadScript(): Promise<void> {
    try {
      this.sha = String(await this.client.script('LOAD', BATCH_SCRIPT));
    } catch (error) {
      throw this.wrap(error, 'loading the batch script');
    }
  }

  private fail(error: RedisStoreError): void {
    if (this.lost !== null) return;
    this.lost = error;
    for (const listener of [...this.failureListeners]) listener(error);
    this.failureListeners.clear();
    // Batches the store was holding through a failover, or waiting on replicas for, fail with it.
    for (const p of [...this.unconfirmed.filter((u) => !this.inFlight.has(u)), ...this.held]) p.reject(error);
    this.unconfirmed = [];
    this.held = [];
  }

  /**
   * The primary stopped answering (a `redis-sentinel://` store): hold new batches, ask the
   * Sentinels for the primary until one answers as a primary, then take up the batches that were
   * under way. Past failover-ms from now, the store is lost.
   */
  private liveThrough(cause: RedisStoreError, onLost: (error: RedisStoreError) => void): void {
    if (this.reconnected !== null) return;
    const say = this.say;
    const settings = this.failover!;
    const started = Date.now();
    const deadline = started + settings.failoverMs;
    say(`redis store ${this.describe}: the primary stopped answering (${withoutStorePrefix(cause, this.describe)}); asking the Sentinels for the new one, for up to ${stallText(settings.failoverMs)}`);
    this.waitInFlight = false;
    this.reconnected = (async () => {
      let last: unknown = cause;
      // Until a node answers as the primary and takes the batches up; a drop while it does (the
      // Sentinels reconfiguring it, or it dying too) is one more turn, within the same deadline.
      while (Date.now() < deadline && !this.closed) {
        let client: Redis;
        try {
          client = await connectPrimary(this.target, 'store', onLost, Math.max(100, Math.min(DEFAULT_CONNECT_TIMEOUT_MS, deadline - Date.now())));
        } catch (error) {
          last = error;
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        if (this.closed) {
          await closeRedis(client);
          break;
        }
        this.client = client;
        try {
          await this.loadScript();
          const { applied, resent } = await this.takeUp();
          say(`redis store ${this.describe}: the primary at ${peerOf(client)} took over after ${((Date.now() - started) / 1000).toFixed(1)} s; batches under way: ${applied} found applied there, ${resent} sent again`);
          return;
        } catch (error) {
          if (isConnectionGone(client, error)) {
            last = error;
            client.disconnect();
            continue;
          }
          const lost = error instanceof RedisStoreError ? error : new RedisStoreError('REDIS_STORE_LOST', `redis store ${this.describe}: after a failover: ${errorText(error)}`, { cause: error });
          this.fail(lost);
          client.disconnect();
          return;
        }
      }
      this.fail(
        this.closed
          ? new RedisStoreError('REDIS_STORE_LOST', `redis store ${this.describe}: closed while failing over`)
          : new RedisStoreError(
              'REDIS_STORE_LOST',
              `redis store ${this.describe}: the primary was lost and no new primary took over within failover-ms (${stallText(settings.failoverMs)}): ${withoutStorePrefix(last, this.describe)}`,
              { cause: last },
            ),
      );
    })().finally(() => {
      this.reconnected = null;
    });
  }

  /**
   * On the new primary: the batches under way that its run's record holds were applied (their
   * answers are there); the others were not, and are resent, in order, then the held ones.
   */
  private async takeUp(): Promise<{ applied: number; resent: number }> {
    const entries = (await this.client.lrangeBuffer(this.runKey, 0, -1)).map(readRecordEntry);
    const recorded = new Map(entries.map((e) => [e.seq, e.reply]));
    const newest = entries.length === 0 ? -1 : entries[entries.length - 1]!.seq;
    // A record that expired (a run idle for most of its time to live) says nothing of what was lost.
    const recordLive = entries.length > 0 || Date.now() - this.lastSentAt < RUN_RECORD_TTL_MS / 2;
    if (recordLive && newest < this.highestConfirmed) {
      throw new RedisStoreError(
        'REDIS_STORE_LOST',
        `redis store ${this.describe}: the new primary lacks batch ${this.highestConfirmed} of this run, which a replica had confirmed (the replica that had it was not the one promoted, or was lost too): its results were written, its data is gone`,
      );
    }
    const underWay = this.unconfirmed.sort((a, b) => a.sent - b.sent);
    this.unconfirmed = [];
    const resend: Pending[] = [];
    for (const p of underWay) {
      const reply = recorded.get(p.sent);
      if (reply !== undefined) {
        p.reply = reply;
        p.wait = this.waitsIssued + 1;
        this.unconfirmed.push(p);
        this.await(p);
      } else if (p.sent < newest) {
        throw new RedisStoreError('REDIS_STORE_LOST', `redis store ${this.describe}: after a failover the run's record holds batch ${newest} but not batch ${p.sent} before it`);
      } else {
        delete p.reply;
        resend.push(p);
      }
    }
    const held = this.held;
    this.held = [];
    for (const p of [...resend, ...held]) this.issue(p);
    return { applied: underWay.length - resend.length, resent: resend.length };
  }

  onFailure(listener: (error: Error) => void): () => void {
    if (this.lost !== null) {
      queueMicrotask(() => listener(this.lost!));
      return () => undefined;
    }
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /**
   * Every host's changes, from the change channel, in the order Redis applied them. A feed that
   * drops fails the store: changes published while it was away would be missed without a word.
   */
  async watch(onChange: ChangeListener): Promise<() => Promise<void>> {
    if (this.lost !== null) throw this.lost;
    const feed = await (this.failover === null ? ChangeFeed : StreamFeed).open(this.url, onChange, {
      namespace: this.namespace,
      // Batches in flight still settle; every later one is refused with this error.
      onLost: (error) => this.fail(error),
      onFailover: this.say,
    });
    this.feeds.add(feed);
    return async () => {
      this.feeds.delete(feed);
      await feed.close();
    };
  }

  private wrap(error: unknown, during: string): RedisStoreError {
    if (error instanceof RedisStoreError) return error;
    if (this.lost !== null) return this.lost;
    const text = errorText(error);
    if (text.startsWith('KVSREFUSED')) {
      return new RedisStoreError('REDIS_STORE_REFUSED', `redis store ${this.describe}: batch refused, nothing applied: ${text.slice(11)}`, { cause: error });
    }
    // Not ready, or ioredis refusing to queue on a dead stream: the connection is gone, even when
    // this rejection comes before its 'close' event.
    if (isConnectionGone(this.client, error)) {
      const lost = new RedisStoreError('REDIS_STORE_LOST', `redis store ${this.describe}: connection lost while ${during} (a batch under way is applied whole or not at all): ${text}`, { cause: error });
      this.fail(lost);
      return lost;
    }
    return new RedisStoreError('REDIS_STORE_REFUSED', `redis store ${this.describe}: ${during}: ${text}`, { cause: error });
  }

  private refusal(why: string): RedisStoreError {
    return new RedisStoreError('REDIS_STORE_REFUSED', `redis store ${this.describe}: batch refused, nothing applied: ${why}`);
  }

  /**
   * The seam's `apply`: a batch as the bus carries it (protocol/batch-codec.ts), applied atomically
   * by one script, its results in the same layout as the in-memory store's (SHOW's pairs in no
   * order). A malformed batch is refused whole. `onBackup(n, snapshot)` is called for the BACKUP
   * that ends the batch, if one does, before the promise resolves; the snapshot is the caller's
   * to read and release.
   */
  async apply(batch: Uint8Array, onBackup: OnRedisBackup = () => undefined): Promise<Uint8Array> {
    if (this.lost !== null) throw this.lost;
    const check = checkBatch(batch);
    if (!check.ok) throw this.refusal(check.error);
    // One copy key per SHOW, in order, then the BACKUP's (a BACKUP ends its batch).
    const keys = [this.names.data];
    const copies = check.shows + (check.backup === null ? 0 : 1);
    for (let i = 0; i < copies; i++) keys.push(this.names.copyPrefix + randomUUID());
    const bytes = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
    const reply = await this.send(keys, [this.names.channel, String(this.showInlineMax), String(this.copyTtlMs), bytes]);
    const [segments, sizes] = reply as [Buffer[], number[]];
    let results: Uint8Array = segments[0]!;
    if (segments.length > 1) {
      // SHOWs answered through their copies: their pairs go between the segments.
      const parts: Uint8Array[] = [segments[0]!];
      for (let j = 0, cut = 1; j < check.shows; j++) {
        if (sizes[j]! < 0) continue;
        const ref = { key: keys[j + 1]!, pairs: sizes[j]! };
        // Through a failover the copy is read again on the new primary (it was replicated with its batch).
        parts.push(await this.command('reading a SHOW', (client) => this.readShowCopy(ref, client)), segments[cut++]!);
      }
      results = Buffer.concat(parts);
    }
    if (check.backup !== null) {
      onBackup(check.backup, new RedisSnapshot(this.client, { key: keys[copies]!, pairs: sizes[copies - 1]! }, this.describe, this.url));
    }
    this.commandsApplied += check.commands;
    return results;
  }

  private send(keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { keys, args, resolve, reject, sent: this.sentCount++ };
      if (this.recovering || this.reconnected !== null) this.held.push(pending);
      else this.issue(pending);
    });
  }

  /** The script's arguments past the batch: the stream and the run's record, or none (batch-script.ts). */
  private recordArgs(pending: Pending): readonly string[] {
    if (this.failover === null) return PLAIN_RECORD_ARGS;
    // The record keeps every batch not yet confirmed: the earliest of them is this many back.
    const keep = this.unconfirmed.length === 0 ? 1 : pending.sent - this.unconfirmed[0]!.sent + 1;
    return [this.names.stream, String(STREAM_CAP), this.runKey, String(pending.sent), String(Math.max(1, keep)), String(RUN_RECORD_TTL_MS)];
  }

  private issue(pending: Pending): void {
    if (this.inFlight.size === 0) this.lastAnswer = Date.now();
    this.lastSentAt = Date.now();
    this.inFlight.add(pending);
    if (this.failover !== null) {
      this.unconfirmed.push(pending);
      pending.wait = this.waitsIssued + 1;
    }
    const args = [this.sha, pending.keys.length, ...pending.keys, ...pending.args, ...this.recordArgs(pending)];
    // callBuffer: every bulk string of the reply comes back as a Buffer, never decoded as UTF-8.
    this.client.callBuffer('EVALSHA', args).then(
      (reply: unknown) => {
        this.lastAnswer = Date.now();
        this.inFlight.delete(pending);
        this.lastOkSent = Math.max(this.lastOkSent, pending.sent);
        if (this.failover === null) pending.resolve(reply);
        else if (this.lost !== null) pending.reject(this.lost);
        else {
          pending.reply = reply;
          this.await(pending);
        }
      },
      (error: unknown) => {
        this.inFlight.delete(pending);
        // Through a failover, a batch whose answer was lost is taken up on the new primary.
        if (this.failover !== null && this.lost === null && isConnectionGone(this.client, error)) return;
        this.unconfirmed = this.unconfirmed.filter((p) => p !== pending);
        if (errorText(error).startsWith('NOSCRIPT')) this.recover(pending);
        else pending.reject(this.wrap(error, 'applying a batch'));
      },
    );
  }

  /**
   * A batch applied: released now when no replica is asked for; else once the WAIT sent after it
   * says that enough replicas have it. One WAIT at a time covers every batch sent before it.
   */
  private await(pending: Pending): void {
    if (this.failover!.replicas === 0) {
      this.confirm([pending]);
      return;
    }
    // Else the WAIT under way answers first, and the next one covers this batch.
    if (!this.waitInFlight) this.askReplicas();
  }

  /** Releases these batches' answers, in send order, and forgets them (one pass over the rest). */
  private confirm(done: readonly Pending[]): void {
    if (done.length === 0) return;
    const released = new Set(done);
    this.unconfirmed = this.unconfirmed.filter((p) => !released.has(p));
    for (const p of done) {
      this.highestConfirmed = Math.max(this.highestConfirmed, p.sent);
      p.resolve(p.reply);
    }
  }

  private askReplicas(): void {
    const settings = this.failover!;
    const number = ++this.waitsIssued;
    this.waitInFlight = true;
    this.waitingSince ??= Date.now();
    const client = this.client;
    client.call('WAIT', String(settings.replicas), String(WAIT_STEP_MS)).then(
      (answer) => {
        if (client !== this.client || this.lost !== null) return;
        this.waitInFlight = false;
        if (Number(answer) >= settings.replicas) {
          this.waitingSince = null;
          this.confirm(this.unconfirmed.filter((u) => u.wait !== undefined && u.wait <= number && u.reply !== undefined));
        } else if (Date.now() - this.waitingSince! > settings.failoverMs) {
          this.fail(
            new RedisStoreError(
              'REDIS_STORE_LOST',
              `redis store ${this.describe}: ${answer} of the ${settings.replicas} replicas asked for confirmed the batches under way within failover-ms (${stallText(settings.failoverMs)}); their results are not released (?replicas=0 releases them without)`,
            ),
          );
          return;
        }
        if (this.unconfirmed.some((p) => p.reply !== undefined)) this.askReplicas();
      },
      () => {
        // The connection is gone: the failover takes the batches up (or the store is lost).
        if (client === this.client) this.waitInFlight = false;
      },
    );
  }

  /**
   * NOSCRIPT: hold new batches, wait for those in flight, reload the script, resend the refused
   * batches in their order, then the held ones. Everything is issued synchronously at the end,
   * so the order on the connection is the order of the `apply` calls.
   */
  private recover(pending: Pending): void {
    this.refused.push(pending);
    if (this.recovering) return;
    this.recovering = true;
    void (async () => {
      while (this.inFlight.size > 0) await new Promise((resolve) => setImmediate(resolve));
      const refused = this.refused.sort((a, b) => a.sent - b.sent);
      this.refused = [];
      let failure: RedisStoreError | null = null;
      if (this.lastOkSent > refused[0]!.sent) {
        failure = new RedisStoreError(
          'REDIS_STORE_REFUSED',
          `redis store ${this.describe}: the script cache was flushed under running batches and a later batch got through first; the refused ones are not resent (that would reorder them), nothing of them was applied`,
        );
      } else {
        try {
          await this.loadScript();
        } catch (error) {
          failure = this.wrap(error, 'reloading the batch script');
        }
      }
      const held = this.held;
      this.held = [];
      this.recovering = false;
      for (const p of refused) {
        if (failure === null) this.issue(p);
        else p.reject(failure);
      }
      for (const p of held) this.issue(p);
    })();
  }

  /** A big SHOW: its result bytes from its copy, read a chunk at a time, then the copy is dropped. */
  private async readShowCopy(ref: SnapshotRef, client: Redis): Promise<Uint8Array> {
    const out = new ResultWriter();
    if (ref.pairs === 0) {
      // The store was empty: the script made no copy.
      out.pairCount(0);
      return out.take();
    }
    const pairs = new Map<string, string>();
    const snapshot = new RedisSnapshot(client, ref, this.describe);
    try {
      for (let kv = await snapshot.next(SHOW_SCAN_COUNT); kv !== null; kv = await snapshot.next(SHOW_SCAN_COUNT)) {
        for (let i = 0; i < kv.length; i += 2) if (!pairs.has(kv[i]!)) pairs.set(kv[i]!, kv[i + 1]!);
      }
    } finally {
      await snapshot.release();
    }
    if (pairs.size !== ref.pairs) {
      throw new RedisStoreError('REDIS_STORE_SNAPSHOT', `redis store ${this.describe}: SHOW copy ${ref.key} holds ${pairs.size} pairs, ${ref.pairs} were copied`);
    }
    out.pairCount(pairs.size);
    try {
      for (const [key, value] of pairs) out.pair(key, value);
    } catch (error) {
      throw new RedisStoreError('REDIS_STORE_SNAPSHOT', `redis store ${this.describe}: SHOW copy ${ref.key}: ${errorText(error)} (no command writes that: the hash was changed behind the store's back)`);
    }
    return out.take();
  }

  /**
   * A command outside the batches, on the primary: through a failover (a `redis-sentinel://`
   * store), it waits for the new primary and is made there.
   */
  private async command<T>(during: string, run: (client: Redis) => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.failover?.failoverMs ?? 0);
    for (;;) {
      if (this.lost !== null) throw this.lost;
      if (this.reconnected !== null) {
        await this.reconnected;
        continue;
      }
      const client = this.client;
      try {
        return await run(client);
      } catch (error) {
        // The connection's end starts the failover: wait for it to begin.
        if (this.failover !== null && this.lost === null && isConnectionGone(client, error) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        throw this.wrap(error, during);
      }
    }
  }

  /** Whether the key is in the store now (SUBSCRIBE's check). */
  async has(key: string): Promise<boolean> {
    return this.command('checking a key', async (client) => (await client.hexists(this.names.data, arg(key))) === 1);
  }

  /** The number of keys now. */
  async size(): Promise<number> {
    return this.command('counting keys', (client) => client.hlen(this.names.data));
  }

  /** A reader, on this store's connection, for a copy named by a `SnapshotRef` (e.g. from another process). */
  snapshot(ref: SnapshotRef): RedisSnapshot {
    return new RedisSnapshot(this.client, ref, this.describe);
  }

  /** Closes the connection and any change feed. Idempotent; batches still in flight reject. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.stallWatch);
    this.failureListeners.clear();
    await Promise.all([...this.feeds].map((feed) => feed.close()));
    this.feeds.clear();
    await closeRedis(this.client);
  }
}
