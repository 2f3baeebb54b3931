/**
 * When the backup children fork (runtime/backup/children.ts): a fork costs a Node start, so a
 * backup that finds every child busy waits for one to be free, up to a bound, and only then forks
 * a child of its own. Real child processes, counted in /proc; the children's test gate
 * (test/helpers/backup-hooks.ts) holds a backup in progress. Serial: the gate is passed to the
 * children through this process's environment.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { MemorySnapshot, Store } from '../../../runtime/store/memory-store.js';
import { BackupChildren } from '../../../runtime/backup/children.js';
import { tempDir, waitUntilSeen } from '../../helpers/fixtures.js';
import { backupHooks } from '../../helpers/backup-hooks.js';

/** The backup children of this process now (the tests fork nothing else). */
function allBackupChildren(): number[] {
  const pids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('backup/child.js');
    } catch {
      return false;
    }
  });
}

/** Counts the backup children forked since it was made (those of earlier tests may still be ending). */
function forkedSince(): () => number {
  const before = new Set(allBackupChildren());
  return () => allBackupChildren().filter((pid) => !before.has(pid)).length;
}

function storeOf(pairs: number): Store {
  const store = new Store();
  for (let i = 0; i < pairs; i++) store.set(`k${String(i).padStart(4, '0')}`, `v${i}`);
  return store;
}

/** Children made now hold each backup before its rename until `open()` creates the gate file. */
function gate(t: ExecutionContext): { open(): void } {
  const path = join(tempDir(t), 'gate');
  const hooks = backupHooks({ gate: path });
  const before = Object.fromEntries(Object.keys(hooks).map((name) => [name, process.env[name]]));
  Object.assign(process.env, hooks);
  const open = () => {
    if (!existsSync(path)) writeFileSync(path, '');
  };
  t.teardown(() => {
    open();
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return { open };
}

function children(t: ExecutionContext, forkAfterMs: number): BackupChildren {
  const made = new BackupChildren(0, forkAfterMs);
  t.teardown(() => made.killAll());
  return made;
}

test.serial('a backup that finds the only child busy waits for it rather than fork one more', async (t) => {
  const dir = tempDir(t);
  const backupChildren = forkedSince();
  const store = storeOf(100);
  const writer = children(t, 600_000);
  const outcomes = await Promise.all([1, 2].map((n) => writer.write({ path: join(dir, `a-${n}.bck`), compat: 'seed' }, new MemorySnapshot(store.snapshot()))));
  t.deepEqual(outcomes, [
    { ok: true, pairs: 100 },
    { ok: true, pairs: 100 },
  ]);
  t.is(backupChildren(), 1, 'one child wrote both');
  t.is(readFileSync(join(dir, 'a-2.bck'), 'latin1').split('\n').length, 101);
  writer.close();
});

test.serial('a backup still waiting for a busy child past the bound forks a child of its own', async (t) => {
  const dir = tempDir(t);
  const backupChildren = forkedSince();
  const { open } = gate(t);
  const store = storeOf(100);
  const writer = children(t, 50);
  const first = writer.write({ path: join(dir, 'a-1.bck'), compat: 'seed' }, new MemorySnapshot(store.snapshot()));
  const second = writer.write({ path: join(dir, 'a-2.bck'), compat: 'seed' }, new MemorySnapshot(store.snapshot()));
  // The first is held at the gate, so only a second child can take the second backup.
  await waitUntilSeen('a second backup child', () => ({ ok: backupChildren() === 2, seen: `${backupChildren()} children` }));
  open();
  t.deepEqual(await Promise.all([first, second]), [
    { ok: true, pairs: 100 },
    { ok: true, pairs: 100 },
  ]);
  writer.close();
});

test.serial('a backup given up while it waits for a busy child releases its snapshot and forks nothing', async (t) => {
  const dir = tempDir(t);
  const backupChildren = forkedSince();
  const { open } = gate(t);
  const store = storeOf(100);
  const writer = children(t, 600_000);
  const first = writer.write({ path: join(dir, 'a-1.bck'), compat: 'seed' }, new MemorySnapshot(store.snapshot()));
  const abort = new AbortController();
  const second = writer.write({ path: join(dir, 'a-2.bck'), compat: 'seed' }, new MemorySnapshot(store.snapshot()), abort.signal);
  abort.abort(new Error('stopping'));
  t.deepEqual(await second, { ok: false, reason: 'cancelled: stopping' });
  t.is(backupChildren(), 1, 'no child forked for the backup given up');
  open();
  t.deepEqual(await first, { ok: true, pairs: 100 });
  // Snapshots are released in order: 0 means the one given up was released too.
  t.is(store.openSnapshots, 0);
  t.false(existsSync(join(dir, 'a-2.bck')));
  writer.close();
});
