/**
 * Connections to the Redis that holds the store (`--store redis://...`): the URL forms, the
 * key and channel names, the one error class, and a connect that fails fast.
 *
 * Every connection is made with reconnection off: a connection that drops takes its pending
 * commands down with a rejection, and nothing is resent. A batch resent after a drop could be
 * applied twice (the script may have run before the reply was lost), and a subscriber that
 * reconnected silently would miss the changes published while it was away.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage } from '../../protocol/guards.js';
import { withoutPassword } from '../cli/command-line.js';

export type RedisStoreErrorCode =
  /** The `--store` URL cannot be used. */
  | 'REDIS_STORE_URL'
  /** No connection could be made (at start). */
  | 'REDIS_STORE_UNREACHABLE'
  /** The connection dropped: what was under way may or may not have been applied, never in part. */
  | 'REDIS_STORE_LOST'
  /** Redis refused a batch (a bug, or the data key holds something else): nothing was applied. */
  | 'REDIS_STORE_REFUSED'
  /** A snapshot copy is not what the script left (expired, or deleted by someone else). */
  | 'REDIS_STORE_SNAPSHOT';

export class RedisStoreError extends Error {
  override readonly name = 'RedisStoreError';
  constructor(
    readonly code: RedisStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RedisTarget {
  /** ioredis options for this server (host and port, or a unix socket path; the db). */
  readonly options: RedisOptions;
  readonly db: number;
  /** The URL without any password, for messages. */
  readonly describe: string;
  /** Set for a `redis-sentinel://` store: the host lives through a failover of the primary. */
  readonly failover: FailoverSettings | null;
}

/**
 * How a `redis-sentinel://` store lives through a failover (docs/redis.md says what holds).
 */
export interface FailoverSettings {
  /**
   * A batch's results and changes are released only once this many replicas have it (WAIT after
   * the script); 0 releases them as soon as the primary answers (a failover can then lose them).
   * URL parameter `replicas`, default 1.
   */
  readonly replicas: number;
  /**
   * How long a host waits, from the moment its primary stops answering, for the Sentinels to name
   * a new one and for that one to take its batches (and for a replica to confirm a batch): past
   * it, the run fails as on a plain store, naming the store. URL parameter `failover-ms`,
   * default 30,000 (Sentinel's own default down-after-milliseconds alone is 30 s: set it lower).
   */
  readonly failoverMs: number;
}

export const DEFAULT_FAILOVER: FailoverSettings = { replicas: 1, failoverMs: 30_000 };

/**
 * Parses `redis://[user[:password]@]host[:port][/db]`, `redis+unix:///path/to/socket[?db=N]`,
 * `unix:///path/to/socket[?db=N]` or a Sentinel URL (`parseSentinelUrl`).
 */
export function parseRedisUrl(text: string): RedisTarget {
  if (/^redis-sentinel:/i.test(text)) return parseSentinelUrl(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RedisStoreError('REDIS_STORE_URL', `store '${withoutPassword(text)}' is not a URL: use redis://host:port[/db] or redis+unix:///path/to/socket[?db=N]`);
  }
  const safe = new URL(url.href);
  safe.password = '';
  const describe = safe.href;
  const decoded = (raw: string, what: string): string | undefined => {
    try {
      return decodeURIComponent(raw) || undefined;
    } catch {
      throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: the ${what} has a bad %-escape (write % itself as %25)`);
    }
  };
  const auth = { username: decoded(url.username, 'user name'), password: decoded(url.password, 'password') };
  // Anything the URL says that is not read would be a silent surprise (another database, a
  // timeout that is not applied): the only parameter is a socket's `db`, given once.
  if (url.hash !== '') throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: a URL fragment ('${url.hash}') means nothing here`);
  const dbFrom = (raw: string | null): number => {
    if (raw === null || raw === '') return 0;
    if (!/^\d{1,5}$/.test(raw)) throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: database '${raw}' is not a number`);
    return Number(raw);
  };
  if (url.protocol === 'redis:') {
    if (url.search !== '') throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: parameters ('${url.search}') are not read; the database goes in the path, as in redis://host:6379/3`);
    if (url.hostname === '') throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: no host`);
    const port = url.port === '' ? 6379 : Number(url.port);
    const db = dbFrom(url.pathname.replace(/^\//, ''));
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    return { options: { host, port, db, ...auth }, db, describe, failover: null };
  }
  if (url.protocol === 'redis+unix:' || url.protocol === 'unix:') {
    if (url.hostname !== '' || url.pathname === '' || url.pathname === '/') {
      throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: give the socket's absolute path, as in redis+unix:///run/redis.sock`);
    }
    const names = [...url.searchParams.keys()];
    if (names.some((name) => name !== 'db') || names.length > 1) {
      throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: the one parameter is db, given once, as in redis+unix:///run/redis.sock?db=3 (not '${url.search}')`);
    }
    const db = dbFrom(url.searchParams.get('db'));
    return { options: { path: decodeURIComponent(url.pathname), db, ...auth }, db, describe, failover: null };
  }
  throw new RedisStoreError('REDIS_STORE_URL', `store ${describe}: unknown scheme '${url.protocol}' (redis:, redis+unix: or redis-sentinel:)`);
}

const SENTINEL_FORM = 'redis-sentinel://[user:password@]host:port[,host:port...]/<master-name>[?db=N&replicas=N&failover-ms=N]';

/**
 * Parses `redis-sentinel://[user:password@]host:port[,host:port...]/<master-name>[?db=N]`: the
 * Sentinels to ask for the primary of `<master-name>`. The user and password are the data nodes'
 * (the primary's and its replicas'); the Sentinels are asked without them. The WHATWG URL parser
 * cannot read a list of hosts, so this form is read by hand.
 */
function parseSentinelUrl(text: string): RedisTarget {
  const bad = (describe: string, why: string): RedisStoreError =>
    new RedisStoreError('REDIS_STORE_URL', `store ${describe}: ${why}; the form is ${SENTINEL_FORM}`);
  const match = /^redis-sentinel:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/i.exec(text);
  if (match === null) throw bad(withoutPassword(text), 'not a Sentinel URL');
  const [, userinfo, hostList = '', path = '', search = '', hash] = match;
  const decoded = (raw: string | undefined, what: string, describe: string): string | undefined => {
    if (raw === undefined || raw === '') return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      throw bad(describe, `the ${what} has a bad %-escape (write % itself as %25)`);
    }
  };
  const colon = userinfo === undefined ? -1 : userinfo.indexOf(':');
  const rawUser = userinfo === undefined ? undefined : colon < 0 ? userinfo : userinfo.slice(0, colon);
  const rawPassword = userinfo === undefined || colon < 0 ? undefined : userinfo.slice(colon + 1);
  const describe = `redis-sentinel://${rawUser === undefined || rawUser === '' ? '' : `${rawUser}@`}${hostList}${path}${search}`;
  if (hash !== undefined) throw bad(describe, `a URL fragment ('${hash}') means nothing here`);
  const sentinels = hostList.split(',').map((entry) => {
    const one = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
    if (one === null) throw bad(describe, entry === '' ? 'a Sentinel address is missing' : `'${entry}' is not host:port`);
    const port = one[2] === undefined ? 26379 : Number(one[2]);
    if (port < 1 || port > 65535) throw bad(describe, `port ${one[2]} is out of range`);
    return { host: one[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
  const name = decoded(path.replace(/^\//, ''), 'master name', describe);
  if (name === undefined || name.includes('/')) throw bad(describe, 'give the master name the Sentinels monitor, as in redis-sentinel://127.0.0.1:26379/mymaster');
  const params = new URLSearchParams(search);
  const names = [...params.keys()];
  const known = ['db', 'replicas', 'failover-ms'];
  if (names.some((key) => !known.includes(key)) || new Set(names).size < names.length) {
    throw bad(describe, `the parameters are db, replicas and failover-ms, each at most once (not '${search}')`);
  }
  const whole = (name: string, what: string, fallback: number, digits: number): number => {
    const raw = params.get(name);
    if (raw === null) return fallback;
    if (!new RegExp(`^\\d{1,${digits}}$`).test(raw)) throw bad(describe, `${what} '${raw}' is not a number`);
    return Number(raw);
  };
  const db = whole('db', 'database', 0, 5);
  const replicas = whole('replicas', 'replicas', DEFAULT_FAILOVER.replicas, 2);
  const failoverMs = whole('failover-ms', 'failover-ms', DEFAULT_FAILOVER.failoverMs, 7);
  if (failoverMs < 100) throw bad(describe, `failover-ms ${failoverMs} is too short to live through anything (at least 100)`);
  const username = decoded(rawUser, 'user name', describe);
  const password = decoded(rawPassword, 'password', describe);
  return {
    options: {
      sentinels,
      name,
      role: 'master',
      db,
      username,
      password,
      // Sentinels that cannot be reached are said at once, not retried forever.
      sentinelRetryStrategy: () => null,
    },
    db,
    describe,
    failover: { replicas, failoverMs },
  };
}

/** The Redis names one keyspace uses. The `{...}` hash tag keeps every key in one cluster slot. */
export interface RedisNames {
  readonly data: string;
  readonly copyPrefix: string;
  readonly channel: string;
  /** The change feed of a `redis-sentinel://` store: a capped stream, replicated with the data. */
  readonly stream: string;
  /** Followed by a run's id: the list of that run's last batches applied (sequence and answer). */
  readonly runPrefix: string;
}

/**
 * Pub/sub channels are global to a server, not per database: the channel names the database too,
 * so two keyspaces in two databases of one server do not hear each other.
 */
export function redisNames(namespace: string, db: number): RedisNames {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) throw new RedisStoreError('REDIS_STORE_URL', `namespace '${namespace}' must be 1-64 of A-Z a-z 0-9 _ . -`);
  return { data: `{${namespace}}:data`, copyPrefix: `{${namespace}}:copy:`, channel: `{${namespace}}:changes@${db}`, stream: `{${namespace}}:feed`, runPrefix: `{${namespace}}:run:` };
}

/** The server answers but refuses the URL's database: said as it is, not as a failed connect. */
class DatabaseRefused extends Error {}

/** Connections closed on purpose: their end is not a loss. */
const closing = new WeakSet<Redis>();

export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

/** Kept under the name the Redis modules use; one implementation, in protocol/guards.ts. */
export const errorText = errorMessage;

/**
 * Opens one connection and waits until Redis answers; rejects with REDIS_STORE_UNREACHABLE
 * (after at most `connectTimeoutMs` for a host that does not answer), never retries.
 * `onLost` is called once if the connection later drops without `quit()`.
 */
/** ioredis' words for a failed connect, in a user's: what happened, not which option refused. */
function plainConnectError(text: string, spokeOtherProtocol: boolean, connectTimeoutMs: number): string {
  if (spokeOtherProtocol) return 'what answers there is not a Redis server (its reply is not the Redis protocol)';
  if (/ETIMEDOUT|no answer within/.test(text)) return `no answer within ${connectTimeoutMs} ms (the host does not answer, or a firewall drops the connection)`;
  // The connection closed before the first command could be sent.
  if (/Stream isn't writeable|Connection is closed/.test(text)) return 'the connection was closed before the server answered';
  return text;
}

export async function connectRedis(target: RedisTarget, role: string, onLost: (error: RedisStoreError) => void, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<Redis> {
  let lastError: unknown = null;
  let ready = false;
  // The database is selected below, awaited: ioredis' own SELECT (its `db` option) reports a
  // refusal as an error event only and goes on in database 0, another keyspace than the URL's.
  const { db: _selectedBelow, ...where } = target.options;
  const client = new Redis({
    ...where,
    connectionName: `ist-kvs-${role}`,
    lazyConnect: true,
    // RESP2: a Lua `false` comes back as a nil, and replies keep their well-known shapes.
    protocol: 2,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    connectTimeout: connectTimeoutMs,
    disableClientInfo: true,
  });
  let spokeOtherProtocol = false;
  client.on('error', (error: unknown) => {
    lastError = error;
    // ioredis' parser on bytes that are not RESP (an HTTP proxy, another service on the port).
    if (/Unknown RESP type|Protocol error/.test(errorText(error))) spokeOtherProtocol = true;
  });
  client.on('end', () => {
    if (!ready || closing.has(client)) return;
    onLost(new RedisStoreError('REDIS_STORE_LOST', `redis store ${target.describe}: connection (${role}) lost${lastError === null ? '' : `: ${errorText(lastError)}`}`, { cause: lastError }));
  });
  // connectTimeout covers the TCP connect only: a peer that accepts and never answers would
  // hold the ready check forever, so the whole handshake has a deadline.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${connectTimeoutMs} ms`)), connectTimeoutMs);
  });
  try {
    const info = await Promise.race([client.connect().then(() => client.info('server')), deadline]);
    if (target.db !== 0) {
      await Promise.race([
        client.select(target.db).catch((error: unknown) => {
          const text = errorText(error);
          throw new DatabaseRefused(`cannot use database ${target.db}: ${text}${/out of range/.test(text) ? " (past the server's `databases` setting)" : ''}`);
        }),
        deadline,
      ]);
    }
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version === null || Number(version[1]) < 7) {
      throw new Error(`Redis 7.0 or later is needed (COPY, script flags); this is ${version === null ? 'unknown' : `${version[1]}.${version[2]}`}`);
    }
  } catch (error) {
    closing.add(client);
    client.disconnect();
    // The socket's own error (ENOENT, ECONNREFUSED) says more than "Connection is closed".
    if (error instanceof DatabaseRefused) throw new RedisStoreError('REDIS_STORE_UNREACHABLE', `redis store ${target.describe}: ${error.message}`, { cause: error });
    const cause = lastError ?? error;
    const text = plainConnectError(errorText(cause), spokeOtherProtocol, connectTimeoutMs);
    throw new RedisStoreError('REDIS_STORE_UNREACHABLE', `redis store ${target.describe}: cannot connect: ${text}`, { cause });
  } finally {
    clearTimeout(timer);
  }
  ready = true;
  return client;
}

/**
 * `connectRedis` to the primary: for a `redis-sentinel://` target, the node the Sentinels name
 * must say it is a primary (after a failover they can name a node that is still a replica, or
 * the old primary back as a replica, for a moment).
 */
export async function connectPrimary(target: RedisTarget, role: string, onLost: (error: RedisStoreError) => void, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<Redis> {
  const client = await connectRedis(target, role, onLost, connectTimeoutMs);
  if (target.failover === null) return client;
  let replication = '';
  try {
    replication = await client.info('replication');
  } catch (error) {
    replication = errorText(error);
  }
  if (/^role:master/m.test(replication)) return client;
  await closeRedis(client);
  throw new RedisStoreError('REDIS_STORE_UNREACHABLE', `redis store ${target.describe}: the node the Sentinels name is not a primary (yet)`);
}

/** Whether `error`, from a command on `client`, says the connection is gone (not a refusal by Redis). */
export function isConnectionGone(client: Redis, error: unknown): boolean {
  return client.status !== 'ready' || /closed|Stream isn't writeable|ECONNRESET|EPIPE|ENOENT|ECONNREFUSED/.test(errorText(error));
}

/** Closes a connection politely, and for certain within a deadline. */
/**
 * A Redis that stops answering without closing its connection (a stopped process, a network that
 * drops packets) would hold whatever waits on it forever. Every command here is bounded (a batch
 * script is milliseconds; a SHOW of a million pairs about a second; an HSCAN chunk less), so
 * this long with no answer means Redis is gone. KVS_REDIS_STALL_MS changes it (tests shorten it).
 */
export const DEFAULT_STALL_MS = 30_000;

export function stallMs(): number {
  const fromEnv = Number(process.env['KVS_REDIS_STALL_MS']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_STALL_MS;
}

/** `ms` as a person reads it: "30 s", "500 ms". */
export function stallText(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** Where a connection goes (host:port or the socket), for messages. */
export function peerOf(client: Redis): string {
  const stream = client.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  return stream?.remoteAddress === undefined ? 'its socket' : `${stream.remoteAddress}:${stream.remotePort}`;
}

/** An error's words without the `redis store <url>: ` every store error begins with. */
export function withoutStorePrefix(error: unknown, describe: string): string {
  const text = errorText(error);
  const prefix = `redis store ${describe}: `;
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

/** `promise`, or a rejection with `lost()` when it has not settled within `ms`. */
export async function withinStall<T>(promise: Promise<T>, ms: number, lost: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(lost()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function closeRedis(client: Redis, deadlineMs = 1000): Promise<void> {
  closing.add(client);
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
