/**
 * A real Redis for the tests and the benchmarks (test/helpers/redis-server.ts, bench/): Debian's
 * `redis-server`, on a unix socket in a temporary folder, with no persistence, stopped (and its
 * folder removed) by `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  /** `redis+unix:///.../redis.sock` */
  readonly url: string;
  readonly socket: string;
  /** Its TCP port on 127.0.0.1 when launched with `tcp` (a URL with a user needs one), else 0. */
  readonly port: number;
  readonly pid: number;
  /** Whatever the server printed, for failure messages. */
  output(): string;
  /** SIGKILL, as a crash; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after a deadline, then removes the folder. Idempotent. */
  stop(): Promise<void>;
}

/** Sends PING on the socket; true when PONG comes back. */
function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = createConnection(socket);
    let reply = '';
    const done = (ok: boolean) => {
      conn.destroy();
      resolve(ok);
    };
    conn.setTimeout(500, () => done(false));
    conn.on('error', () => done(false));
    conn.on('connect', () => conn.write('PING\r\n'));
    conn.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A port free on 127.0.0.1 now (the kernel's choice), for a server started just after. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function launchRedis(timeoutMs = 10_000, { tcp = false }: { readonly tcp?: boolean } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-redis-'));
  const socket = join(dir, 'redis.sock');
  const port = tcp ? await freePort() : 0;
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', ''],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let stopped: Promise<void> | null = null;
  const server: RedisServer = {
    url: `redis+unix://${socket}`,
    socket,
    port,
    pid: child.pid ?? -1,
    output: () => output,
    kill: async () => {
      child.kill('SIGKILL');
      await exited(child);
    },
    stop: () =>
      (stopped ??= (async () => {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited(child);
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      })()),
  };
  const deadline = Date.now() + timeoutMs;
  let failure: Error | null = null;
  void spawnError.then((e) => (failure = e));
  for (;;) {
    if (failure !== null) {
      await server.stop();
      throw new Error(`redis-server did not start (is it installed? apt-get install -y redis-server): ${(failure as Error).message}`);
    }
    if (child.exitCode !== null) {
      await server.stop();
      throw new Error(`redis-server exited with ${child.exitCode}: ${output}`);
    }
    if (await ping(socket)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`redis-server did not answer PING on ${socket} within ${timeoutMs} ms; it printed: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
