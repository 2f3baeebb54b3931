/**
 * Notification benchmark (a script, not a test): `npm run bench:notify`.
 *
 * An in-process server (real Store, host, sessions, registry) and raw clients in child processes
 * on real FIFOs. Prints: notification latency from the store applying a WRITE to a client reading
 * it (p50, p99) with 1, 16 and 64 subscribed clients; notifications/s with 64 clients; and
 * connect-to-response latency. Targets (issue 3): p99 < 5 ms at 64 clients, >= 200,000 notifications/s.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, Store } from '../runtime/store/memory-store.js';
import { startServer } from '../runtime/server/server.js';
import { next, percentile } from './bench-client.js';

const CLIENTS_PER_PROCESS = 16;
const LATENCY_WRITES = Number(process.env['BENCH_LATENCY_WRITES'] ?? 1000);
const THROUGHPUT_TURNS = Number(process.env['BENCH_TURNS'] ?? 100);
const WRITES_PER_TURN = Number(process.env['BENCH_WRITES_PER_TURN'] ?? 200);
/**
 * BENCH_DELETE_EVERY=n: in the throughput run, every n-th change is a DELETE (re-created by the next
 * WRITE). With an odd BENCH_WRITES_PER_TURN and n = 2 the key flips between existing and deleted
 * at every turn, the worst case for the subscription actors (told once per turn).
 */
const DELETE_EVERY = Number(process.env['BENCH_DELETE_EVERY'] ?? 0);
const KEY = 'bench';
const CONNECTS = 64;

type Done = { type: 'done'; latenciesUs: number[]; lastAt: string; connectUs: number[] };



const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-bench-'));
  const store = new Store();
  store.set(KEY, '0');
  const server = await startServer({
    store: new MemoryStore(store),
    registerFifo: join(dir, 'register'),
    sessions: 64,
    compat: 'seed',
    jobsDir: dir,
    submitJob: () => {},
    log: (line) => process.stderr.write(`server: ${line}\n`),
  });
  const children: ChildProcess[] = [];
  const connectUs: number[] = [];
  try {
    for (const clients of [1, 16, 64]) {
      const group: ChildProcess[] = [];
      for (let left = clients, n = 0; left > 0; left -= CLIENTS_PER_PROCESS, n++) {
        const child = fork(new URL('./notify-client.js', import.meta.url), [join(dir, 'register'), String(Math.min(left, CLIENTS_PER_PROCESS)), `c${clients}g${n}`, KEY]);
        children.push(child);
        group.push(child);
      }
      await Promise.all(group.map((c) => next(c, 'ready')));

      // Latency: one WRITE at a time, each in its own turn, ~1 ms apart so queues stay empty.
      await Promise.all(group.map((c) => (c.send({ type: 'reset' }), next(c, 'reset'))));
      const latencyDone = group.map((c) => next<Done>(c, 'done'));
      group.forEach((c) => c.send({ type: 'expect', count: LATENCY_WRITES }));
      for (let i = 0; i < LATENCY_WRITES; i++) {
        store.set(KEY, String(process.hrtime.bigint()));
        await pause(1);
      }
      const results = await Promise.all(latencyDone);
      const latencies = results.flatMap((r) => r.latenciesUs).sort((a, b) => a - b);
      console.log(
        `${String(clients).padStart(2)} client(s): notification latency p50 ${(percentile(latencies, 50) / 1000).toFixed(3)} ms, ` +
          `p99 ${(percentile(latencies, 99) / 1000).toFixed(3)} ms (${latencies.length} notifications)`,
      );

      if (clients === 64) {
        // Throughput: batches of WRITEs, each batch in one turn as the store applies a job's batch.
        await Promise.all(group.map((c) => (c.send({ type: 'reset' }), next(c, 'reset'))));
        const total = THROUGHPUT_TURNS * WRITES_PER_TURN;
        const done = group.map((c) => next<Done>(c, 'done'));
        group.forEach((c) => c.send({ type: 'expect', count: total }));
        const started = process.hrtime.bigint();
        for (let i = 0; i < THROUGHPUT_TURNS; i++) {
          for (let j = 0; j < WRITES_PER_TURN; j++) {
            if (DELETE_EVERY > 1 && (i * WRITES_PER_TURN + j) % DELETE_EVERY === DELETE_EVERY - 1) store.delete(KEY);
            else store.set(KEY, String(process.hrtime.bigint()));
          }
          await turn();
        }
        const finished = await Promise.all(done);
        // The connect run below subscribes: the key must exist.
        if (DELETE_EVERY > 1) store.set(KEY, '0');
        const last = finished.reduce((max, r) => (BigInt(r.lastAt) > max ? BigInt(r.lastAt) : max), 0n);
        const seconds = Number(last - started) / 1e9;
        const notifications = total * clients;
        const deletes = DELETE_EVERY > 1 ? ` (every ${DELETE_EVERY}th change a DELETE)` : '';
        console.log(`64 clients${deletes}: ${notifications} notifications in ${seconds.toFixed(2)} s = ${Math.round(notifications / seconds).toLocaleString('en')} notifications/s`);
      }
      for (const c of group) c.send({ type: 'exit' });
      await Promise.all(group.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    }
    // Connect latency on a quiet machine: one process, one client after the other.
    const child = fork(new URL('./notify-client.js', import.meta.url), [join(dir, 'register'), String(CONNECTS), 'conn', KEY]);
    children.push(child);
    await next(child, 'ready');
    child.send({ type: 'expect', count: 0 });
    connectUs.push(...(await next<Done>(child, 'done')).connectUs);
    child.send({ type: 'exit' });
    // Let it remove its FIFOs before the finally below would SIGKILL it.
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    connectUs.sort((a, b) => a - b);
    if (process.env['BENCH_DEBUG'] !== undefined) console.log(connectUs.map((us) => (us / 1000).toFixed(1)).join(' '));
    console.log(`connect to response: p50 ${(percentile(connectUs, 50) / 1000).toFixed(3)} ms, p99 ${(percentile(connectUs, 99) / 1000).toFixed(3)} ms (${connectUs.length} connects, one at a time)`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
