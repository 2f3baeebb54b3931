/**
 * A real replicated Redis for the tests and the benchmarks (test/helpers/redis-sentinel.ts,
 * bench/hosts-bench.ts): a primary and two replicas (Debian's `redis-server`) watched by three
 * Sentinels (`redis-server <conf> --sentinel`), all on loopback TCP ports in one temporary folder,
 * with no persistence. `stop()` stops every process and removes the folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { exited, freePort } from './redis-server.js';

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

/** Probes until `probe` gives a value; past the deadline, throws saying `what`, the last error and what the processes printed. */
export async function until<T>(what: string, deadlineMs: number, probe: () => Promise<T | null>, seen: () => string): Promise<T> {
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
