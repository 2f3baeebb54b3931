/**
 * The Redis peer of a benchmark row: `redis-benchmark -P 64 -r <keys> -t set,get` (Debian's
 * redis-tools; 50 clients, each with 64 requests in flight) against a redis-server started for it
 * on a unix socket (test/helpers/redis-server.ts). Its SETs run first, so its GETs find most keys.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface RedisRates {
  readonly get: number;
  readonly set: number;
}

/** The command's arguments but the socket; given a name for the keys, the shape to print. */
export function redisBenchmarkArgs(keys: number | string): string[] {
  // Twice as many SETs as keys fill about 86% of the key space, as the jobs' WRITEs do.
  const requests = typeof keys === 'number' ? String(Math.max(1_000_000, 2 * keys)) : `max(1M, 2 x ${keys})`;
  return ['-P', '64', '-r', String(keys), '-n', requests, '-t', 'set,get', '--csv'];
}

export async function redisBenchmark(socket: string, keys: number): Promise<RedisRates> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('redis-benchmark', ['-s', socket, ...redisBenchmarkArgs(keys)], { encoding: 'latin1' }));
  } catch (error) {
    throw new Error(`redis-benchmark failed (is it installed? apt-get install -y redis-tools): ${(error as Error).message}`);
  }
  const rate = (test: string) => {
    const match = new RegExp(`^"${test}","([\\d.]+)"`, 'm').exec(stdout);
    if (match === null) throw new Error(`redis-benchmark printed no ${test} rate: ${stdout}`);
    return Number(match[1]);
  };
  return { get: rate('GET'), set: rate('SET') };
}
