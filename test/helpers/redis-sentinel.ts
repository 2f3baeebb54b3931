/**
 * A real replicated Redis for tests: a primary and two replicas (Debian's `redis-server`) watched
 * by three Sentinels (`redis-server <conf> --sentinel`), all on loopback TCP ports in one temporary
 * folder, with no persistence. `startSentinels(t)` stops every process and removes the folder in
 * the test's teardown, whatever happened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { Redis } from 'ioredis';

export const MASTER_NAME = 'kvsprimary';

export interface RedisNode {
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGKILL, as a crash; resolves once it has exited. */
  kill(): Promise<void>;
}

export interface SentinelSetup {
  /** `redis-sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/kvsprimary` */
  readonly url: string;
  readonly nodes: readonly RedisNode[];
  readonly sentinels: readonly RedisNode[];
  /** The port of the node the Sentinels name as the primary now. */
  primaryPort(): Promise<number>;
  /** A plain connection to the node on `port`, closed at the end. */
  connect(port: number): Promise<Redis>;
  /** Everything the processes printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A port nothing listens on now (the kernel's pick, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | null>, seen: () => string): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${deadlineMs} ms (last error: ${String(last)}); the processes printed:\n${seen()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function launchSentinels(): Promise<SentinelSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-sentinel-'));
  const children: ChildProcess[] = [];
  const clients: Redis[] = [];
  let output = '';
  const start = (name: string, args: string[]): RedisNode & { port: number } => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    child.on('error', (error) => (output += `[${name}] ${error.message}\n`));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d.replace(/^/gm, `[${name}] `)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d.replace(/^/gm, `[${name}] `)));
    const port = Number(args[args.indexOf('--port') + 1]);
    return {
      port,
      child,
      kill: async () => {
        child.kill('SIGKILL');
        await exited(child);
      },
    };
  };
  const connect = async (port: number): Promise<Redis> => {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, protocol: 2, disableClientInfo: true });
    client.on('error', () => undefined);
    clients.push(client);
    try {
      await client.connect();
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return client;
  };
  const stop = async (): Promise<void> => {
    for (const client of clients) client.disconnect();
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited(child);
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', '', '--protected-mode', 'no'];
    const primaryPort = await freePort();
    const nodes = [start('primary', ['--port', String(primaryPort), '--dir', dir, ...common])];
    for (const n of [1, 2]) {
      const port = await freePort();
      nodes.push(start(`replica${n}`, ['--port', String(port), '--dir', dir, ...common, '--replicaof', '127.0.0.1', String(primaryPort)]));
    }
    // Every replica in sync before the Sentinels look, so the first failover has a replica to promote.
    const primary = await until('the primary did not answer', 15_000, async () => connect(primaryPort), () => output);
    await until('the two replicas were not online', 15_000, async () => ((await primary.info('replication')).match(/state=online/g)?.length === 2 ? true : null), () => output);
    const sentinels: RedisNode[] = [];
    for (const n of [1, 2, 3]) {
      const port = await freePort();
      const conf = join(dir, `sentinel${n}.conf`);
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(start(`sentinel${n}`, [conf, '--sentinel', '--port', String(port)]));
    }
    // Each Sentinel knows the primary and both replicas, and the other two Sentinels.
    for (const sentinel of sentinels) {
      const client = await until(`sentinel on port ${sentinel.port} did not answer`, 15_000, async () => connect(sentinel.port), () => output);
      await until(
        `sentinel on port ${sentinel.port} did not see both replicas and the other Sentinels`,
        20_000,
        async () => {
          const master = (await client.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
          const field = (name: string) => Number(master[master.indexOf(name) + 1]);
          return field('num-slaves') === 2 && field('num-other-sentinels') === 2 ? true : null;
        },
        () => output,
      );
    }
    const firstSentinel = sentinels[0]!.port;
    return {
      url: `redis-sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER_NAME}`,
      nodes,
      sentinels,
      primaryPort: async () => {
        const client = await connect(firstSentinel);
        const [, port] = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
        client.disconnect();
        return Number(port);
      },
      connect,
      output: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A primary, two replicas and three Sentinels for one test, all stopped in its teardown. */
export async function startSentinels(t: ExecutionContext): Promise<SentinelSetup> {
  const setup = await launchSentinels();
  t.teardown(() => setup.stop());
  return setup;
}

/**
 * Kills the primary (SIGKILL) and waits until the Sentinels name another node as the primary and
 * that node says it is one; returns its port.
 */
export async function failOver(setup: SentinelSetup, deadlineMs = 30_000): Promise<number> {
  const old = await setup.primaryPort();
  await setup.nodes.find((node) => node.port === old)!.kill();
  return until(
    `no replica was promoted after the primary (port ${old}) was killed`,
    deadlineMs,
    async () => {
      const port = await setup.primaryPort();
      if (port === old) return null;
      const client = await setup.connect(port);
      const role = await client.info('replication');
      client.disconnect();
      return /role:master/.test(role) ? port : null;
    },
    setup.output,
  );
}
