/**
 * Heavy but valid jobs run in bounded memory: what a batch can produce is bounded (a SHOW ends
 * its batch, and a worker has one SHOW in flight at a time), so a job with many SHOWs of a big
 * store completes with a correct .out, in batch and server mode. The full-size case (100,000
 * keys, 700 SHOWs) is measured by hand and in the README; these are scaled down.
 */
import test from 'ava';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Store } from '../../runtime/store/memory-store.js';
import { Op } from '../../protocol/batch-codec.js';
import { decodeOps, type FlatValue } from '../helpers/flat-batch.js';
import { decode, encode, isBatchMessage } from '../../protocol/bus.js';
import type { JobTask } from '../../protocol/job-task.js';
import { readBytes, runKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { startServer, waitUntil } from '../helpers/processes.js';

const JOB_WORKER = new URL('../../runtime/batch/job-worker.js', import.meta.url).href;

/** A job that writes `keys` keys (100 a line), then has `shows` SHOWs; and its expected .out. */
function showJob(keys: number, shows: number): { job: string; out: string } {
  const lines: string[] = [];
  const names = Array.from({ length: keys }, (_, i) => `k${String(i).padStart(6, '0')}`);
  for (let i = 0; i < keys; i += 100) lines.push(`WRITE [${names.slice(i, i + 100).map((k) => `(${k},v${k})`).join('')}]`);
  for (let i = 0; i < shows; i++) lines.push('SHOW');
  const block = names.map((k) => `(${k},v${k})\n`).join('');
  return { job: `${lines.join('\n')}\n`, out: block.repeat(shows) };
}

test('a SHOW ends its batch and a worker never has two SHOWs in flight', async (t) => {
  const dir = tempDir(t);
  const { job, out } = showJob(300, 6);
  writeFiles(dir, { 'a.job': `${job}READ [k000001]\nSHOW\n` });
  const pool = new Piscina({ filename: JOB_WORKER, maxThreads: 1 });
  t.teardown(() => pool.destroy());
  const store = new Store();
  const { port1, port2 } = new MessageChannel();
  t.teardown(() => port1.close());
  const batches: FlatValue[][] = [];
  let showsInFlight = 0;
  let mostShowsInFlight = 0;
  port1.on('message', (bytes: Uint8Array) => {
    const message = decode(bytes);
    if (!isBatchMessage(message)) throw new Error('not a batch');
    const ops = decodeOps(message.ops);
    batches.push(ops);
    const hasShow = ops.includes(Op.Show);
    if (hasShow) mostShowsInFlight = Math.max(mostShowsInFlight, ++showsInFlight);
    const answer = () => {
      if (hasShow) showsInFlight--;
      const reply = encode({ t: 'results', seq: message.seq, results: store.apply(message.ops, () => undefined) });
      port1.postMessage(reply, [reply.buffer as ArrayBuffer]);
    };
    // Held a while, so that a worker that would send past a SHOW has the time to.
    if (hasShow) setTimeout(answer, 30);
    else answer();
  });
  const task: JobTask = { jobPath: join(dir, 'a.job'), outPath: join(dir, 'a.out'), port: port2, compat: 'seed' };
  await pool.run(task, { transferList: [port2] });
  const showBatches = batches.filter((ops) => ops.includes(Op.Show));
  t.is(showBatches.length, 7, 'one batch per SHOW');
  for (const ops of showBatches) t.is(ops.indexOf(Op.Show), ops.length - 1, `a SHOW ends its batch: ${JSON.stringify(ops.slice(-4))}`);
  t.is(mostShowsInFlight, 1);
  t.is(readBytes(join(dir, 'a.out')), `${out}[(k000001,vk000001)]\n${out.slice(0, out.length / 6)}`);
});

test('a job of many SHOWs of a large store completes with a correct .out (batch mode)', async (t) => {
  const { job, out } = showJob(5000, 40);
  const dir = tempDir(t);
  writeFiles(dir, { 'big.job': job, 'small.job': 'WRITE [(zz,1)]\n' });
  const result = await runKvs(t, [dir, '1', '2', '--quiet'], { deadlineMs: 90_000 });
  t.is(result.code, 0, result.stderr);
  const text = readFileSync(join(dir, 'big.out'), 'latin1');
  // small.job may run before, between or after big.job's SHOWs: drop its pair before comparing.
  t.is(text.replaceAll('(zz,1)\n', ''), out);
});

test('a job of many SHOWs of a large store completes with a correct .out (server mode)', async (t) => {
  const { job, out } = showJob(5000, 40);
  const server = await startServer(t);
  // Written aside and renamed in, so the watcher sees it whole at once.
  writeFileSync(join(server.dir, 'big.tmp'), job);
  renameSync(join(server.dir, 'big.tmp'), join(server.dir, 'big.job'));
  await waitUntil(`big.job to be done (stderr: ${server.stderr})`, () => {
    if (!server.alive) throw new Error(`the server exited: ${server.stderr}`);
    return server.stderr.includes(`kvs: ${join(server.dir, 'big.job')} done:`);
  }, 120_000);
  t.is(readFileSync(join(server.dir, 'big.out'), 'latin1'), out);
  t.true(server.alive, server.stderr);
});
