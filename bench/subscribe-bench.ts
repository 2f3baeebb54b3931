/**
 * Subscription benchmark (a script, not a test): `npm run bench:subscribe`.
 *
 * An in-process server (real Store, host, sessions, registry) and one raw client in a child
 * process (bench/subscribe-client.ts) on real FIFOs that sends N SUBSCRIBEs at once, then
 * DISCONNECTs, for N = 5,000, 10,000 and 20,000. Prints the time to every answer (and per
 * SUBSCRIBE: flat when the cost is linear), the DISCONNECT's answer, and the longest the main
 * thread was held meanwhile (perf_hooks' event-loop delay, 1 ms resolution): no other client can
 * be served during it, so it bounds how late another client's notification or connect comes.
 * The server's CPU time per SUBSCRIBE is the steadier figure on a busy machine (wall times and
 * delays grow with the load of other processes).
 * Target (issue 24): linear, and the main thread never held more than a few milliseconds.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MemoryStore, Store } from '../runtime/store/memory-store.js';
import { startServer } from '../runtime/server/server.js';
import { next } from './bench-client.js';

const COUNTS = (process.env['BENCH_SUBSCRIBES'] ?? '5000,10000,20000').split(',').map(Number);

const dir = await mkdtemp(join(tmpdir(), 'kvs-bench-'));
const store = new Store();
for (let i = 0; i < Math.max(...COUNTS); i++) store.set(`k${i}`, '1');
const server = await startServer({
  store: new MemoryStore(store),
  registerFifo: join(dir, 'register'),
  sessions: 4,
  compat: 'seed',
  jobsDir: dir,
  submitJob: () => {},
  log: (line) => process.stderr.write(`server: ${line}\n`),
});
/** The event loop's delays: p50 and p99 (what another client meets) and the longest. */
function holds(delay: ReturnType<typeof monitorEventLoopDelay>): string {
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  return `p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, at most ${ms(delay.max)} ms`;
}

try {
  for (const count of COUNTS) {
    const child = fork(new URL('./subscribe-client.js', import.meta.url), [join(dir, 'register'), String(count)]);
    try {
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const cpu = process.cpuUsage();
      const subscribed = await next<{ ms: number; refused: number }>(child, 'subscribed');
      const cpuUs = process.cpuUsage(cpu);
      delay.disable();
      const held = holds(delay);
      delay.reset();
      delay.enable();
      const disconnected = await next<{ ms: number }>(child, 'disconnected');
      // The subscription actors end a slice per turn after the answer: wait for them too.
      await new Promise((resolve) => setTimeout(resolve, 200));
      delay.disable();
      console.log(
        `${String(count).padStart(6)} SUBSCRIBEs of one client: answered in ${subscribed.ms.toFixed(0)} ms ` +
          `(${((subscribed.ms * 1000) / count).toFixed(1)} us each, ${subscribed.refused} refused; server CPU ${((cpuUs.user + cpuUs.system) / count).toFixed(1)} us each), main thread held ${held}; ` +
          `DISCONNECT answered in ${disconnected.ms.toFixed(1)} ms, main thread held ${holds(delay)}`,
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
