/**
 * A BACKUP waits for a free slot, as in the seed's C: a job whose BACKUP finds max_backups in
 * progress waits (that job alone), its snapshot is taken only once a slot is free, and on
 * Ctrl-C only the backups in progress finish; the queued ones are never started.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createActor, toPromise } from 'xstate';
import { backupCoordinatorMachine, type BackupRequest, type BackupWriter } from '../../actors/backup-coordinator.js';
import { MemorySnapshot, Store } from '../../runtime/store/memory-store.js';
import type { BackupOutcome } from '../../protocol/backup-messages.js';
import type { StoreSnapshot } from '../../protocol/store-contract.js';
import { readBytes, startKvs, tempDir, waitFor, writeFiles } from '../helpers/batch.js';
import { backupHooks } from '../helpers/backup-hooks.js';

test('a snapshot is taken only when a slot is free, and a request given up frees its slot', async (t) => {
  const store = new Store();
  const finishes: ((outcome: BackupOutcome) => void)[] = [];
  const writer: BackupWriter = {
    write: (_job, snapshot: StoreSnapshot) =>
      new Promise((resolve) =>
        finishes.push((outcome) => {
          void snapshot.release();
          resolve(outcome);
        }),
      ),
  };
  const begun: string[] = [];
  const request = (job: string, n: number, give: boolean): BackupRequest => ({
    job,
    n,
    path: `/jobs/${job}-${n}.bck`,
    begin: () => {
      begun.push(`${job}-${n}`);
      return give ? Promise.resolve(new MemorySnapshot(store.snapshot())) : null;
    },
  });
  const actor = createActor(backupCoordinatorMachine, { input: { max: 1, compat: 'seed', writer, report: () => undefined } });
  actor.start();
  actor.send({ type: 'backup.request', request: request('a', 1, true) });
  actor.send({ type: 'backup.request', request: request('b', 1, false) });
  actor.send({ type: 'backup.request', request: request('c', 1, true) });
  t.deepEqual(begun, ['a-1'], 'the others wait without a snapshot');
  t.is(store.openSnapshots, 1);
  await new Promise((resolve) => setImmediate(resolve)); // a write starts once its snapshot's promise settles
  finishes.shift()!({ ok: true, pairs: 0 });
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(begun, ['a-1', 'b-1', 'c-1'], 'b gave up (its job stopped): its slot went to c');
  t.is(store.openSnapshots, 1);
  actor.send({ type: 'coordinator.drain' });
  finishes.shift()!({ ok: true, pairs: 0 });
  t.deepEqual(await toPromise(actor), { completed: 2, failures: [] });
  t.is(store.openSnapshots, 0);
});

test('on SIGINT only the backups in progress finish; queued BACKUPs are never written', async (t) => {
  const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
  const fill: string[] = [];
  for (let i = 0; i < keys.length; i += 100) fill.push(`WRITE [${keys.slice(i, i + 100).map((k) => `(${k},1)`).join('')}]`);
  const backups = 40;
  const job = (tag: string) => `${fill.join('\n')}\n${Array.from({ length: backups }, (_, i) => `WRITE [(${tag},${i})]\nBACKUP`).join('\n')}\nREAD [${tag}]\n`;
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': job('a'), 'b.job': job('b') });
  const trace = join(dir, 'trace.txt');
  // Each backup holds its slot 300 ms: the jobs would queue all 80 BACKUPs in that time.
  const running = startKvs(t, [dir, '1', '2', '--quiet'], { env: backupHooks({ holdMs: 300, trace }), deadlineMs: 60_000 });
  await waitFor(() => readdirSync(dir).find((name) => /^[ab]-\d+\.bck$/.test(name)), 'the first .bck');
  running.child.kill('SIGINT');
  const result = await running.result;
  t.is(result.code, 130, result.stderr);
  const written = readdirSync(dir).filter((name) => name.endsWith('.bck'));
  const starts = readFileSync(trace, 'utf8').split('\n').filter((line) => line.startsWith('start')).length;
  t.true(written.length <= 3, `at most the backups in progress at the signal were written after it (${written.length} .bck: ${written.join(' ')})`);
  t.is(starts, written.length, 'every backup started was completed');
  t.deepEqual(readdirSync(dir).filter((name) => name.endsWith('.tmp')), []);
  for (const tag of ['a', 'b']) {
    // Stopped at a command boundary: its .out is empty or the whole READ.
    t.true(['', `[(${tag},${backups - 1})]\n`].includes(readBytes(join(dir, `${tag}.out`)) ?? ''));
  }
});
