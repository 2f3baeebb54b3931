/**
 * The backup coordinator machine with a stub writer whose writes the test finishes by hand, so
 * the limit, the queue order and failures are checked without processes or timing.
 */
import test from 'ava';
import { createActor, toPromise } from 'xstate';
import { backupCoordinatorMachine, type BackupRequest, type BackupWriter } from '../../actors/backup-coordinator.js';
import { MemorySnapshot, Store } from '../../runtime/store/memory-store.js';
import type { BackupOutcome, BackupTarget } from '../../protocol/backup-messages.js';
import type { StoreSnapshot } from '../../protocol/store-contract.js';

interface PendingWrite {
  readonly job: BackupTarget;
  readonly snapshot: StoreSnapshot;
  readonly finish: (outcome: BackupOutcome) => void;
}

function stubWriter(): { writer: BackupWriter; pending: PendingWrite[]; started: string[] } {
  const pending: PendingWrite[] = [];
  const started: string[] = [];
  const writer: BackupWriter = {
    write: (job, snapshot) =>
      new Promise<BackupOutcome>((resolve) => {
        started.push(job.path);
        pending.push({
          job,
          snapshot,
          finish: (outcome) => {
            void snapshot.release();
            resolve(outcome);
          },
        });
      }),
  };
  return { writer, pending, started };
}

/** Lets the promise callbacks (a finished write reports back through one) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function request(store: Store, job: string, n: number): BackupRequest {
  return { job, n, path: `/jobs/${job}-${n}.bck`, begin: () => Promise.resolve(new MemorySnapshot(store.snapshot())) };
}

function start(max: number, writer: BackupWriter, reports: string[]) {
  const actor = createActor(backupCoordinatorMachine, { input: { max, compat: 'seed', writer, report: (line) => reports.push(line) } });
  actor.start();
  return actor;
}

test('at most max backups are written at once and the others wait in arrival order', async (t) => {
  const store = new Store();
  const { writer, pending, started } = stubWriter();
  const actor = start(2, writer, []);
  for (const [job, n] of [['a', 1], ['b', 1], ['a', 2], ['c', 1]] as const) actor.send({ type: 'backup.request', request: request(store, job, n) });
  await settle(); // a write starts once its snapshot's promise settles
  t.deepEqual(started, ['/jobs/a-1.bck', '/jobs/b-1.bck']);

  pending.shift()!.finish({ ok: true, pairs: 0 });
  await settle();
  t.deepEqual(started, ['/jobs/a-1.bck', '/jobs/b-1.bck', '/jobs/a-2.bck'], 'a freed slot goes to the oldest waiting backup');
  t.is(pending.length, 2);

  actor.send({ type: 'coordinator.drain' });
  while (pending.length > 0) {
    pending.shift()!.finish({ ok: true, pairs: 0 });
    await settle();
  }
  t.deepEqual(started, ['/jobs/a-1.bck', '/jobs/b-1.bck', '/jobs/a-2.bck', '/jobs/c-1.bck']);
  t.deepEqual(await toPromise(actor), { completed: 4, failures: [] });
  t.is(store.openSnapshots, 0);
});

test('a failed backup is reported with its job and number and its slot comes back', async (t) => {
  const store = new Store();
  const { writer, pending, started } = stubWriter();
  const reports: string[] = [];
  const actor = start(1, writer, reports);
  actor.send({ type: 'backup.request', request: request(store, 'a', 3) });
  actor.send({ type: 'backup.request', request: request(store, 'b', 1) });
  await settle();
  pending.shift()!.finish({ ok: false, reason: 'backup process 123 died' });
  await settle();
  t.deepEqual(started, ['/jobs/a-3.bck', '/jobs/b-1.bck']);
  t.is(reports.length, 1);
  t.regex(reports[0]!, /a-3\.bck.*backup 3 of job a.*backup process 123 died/);
  actor.send({ type: 'coordinator.drain' });
  pending.shift()!.finish({ ok: true, pairs: 0 });
  t.deepEqual(await toPromise(actor), { completed: 1, failures: [{ job: 'a', n: 3, reason: 'backup process 123 died' }] });
});

test('a writer that throws counts as a failed backup, not a stuck slot', async (t) => {
  const store = new Store();
  const reports: string[] = [];
  const writer: BackupWriter = {
    write: async (_job, snapshot) => {
      await snapshot.release();
      throw new Error('disk on fire');
    },
  };
  const actor = start(1, writer, reports);
  actor.send({ type: 'backup.request', request: request(store, 'a', 1) });
  actor.send({ type: 'backup.request', request: request(store, 'a', 2) });
  actor.send({ type: 'coordinator.drain' });
  const output = await toPromise(actor);
  t.deepEqual(output.failures.map((f) => f.n), [1, 2]);
  t.is(reports.length, 2);
  t.regex(reports[0]!, /disk on fire/);
});

test('draining with nothing to write finishes at once', async (t) => {
  const { writer } = stubWriter();
  const actor = start(2, writer, []);
  actor.send({ type: 'coordinator.drain' });
  t.deepEqual(await toPromise(actor), { completed: 0, failures: [] });
});
