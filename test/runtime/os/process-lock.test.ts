/**
 * The folder lock in one process: of many takers at the same moment exactly one holds it, the
 * others hear the holder's pid; released, it can be taken again; another folder is another lock,
 * even one that got the inode of a removed folder whose lock is still held.
 */
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { lockFolder } from '../../../runtime/os/process-lock.js';
import { tempDir } from '../../helpers/fixtures.js';

test('of four takers at the same moment exactly one holds the lock, round after round', async (t) => {
  const dir = tempDir(t);
  for (let round = 0; round < 100; round++) {
    const locks = await Promise.all([1, 2, 3, 4].map(() => lockFolder(dir)));
    const held = locks.filter((lock) => lock.ok);
    t.is(held.length, 1, `round ${round}`);
    for (const lock of locks) if (!lock.ok) t.is(lock.holder, process.pid);
    if (held[0]?.ok) await held[0].release();
  }
});

test('two folders are two locks', async (t) => {
  const [a, b] = await Promise.all([lockFolder(tempDir(t)), lockFolder(tempDir(t))]);
  t.true(a.ok && b.ok);
  if (a.ok) await a.release();
  if (b.ok) await b.release();
});

test('a new folder that gets the inode of a removed one whose lock is still held is a lock of its own', async (t) => {
  const parent = tempDir(t);
  const first = join(parent, 'a');
  mkdirSync(first);
  const firstIno = statSync(first).ino;
  const held = await lockFolder(first);
  t.true(held.ok);
  rmdirSync(first);
  // ext4 and tmpfs give the freed inode to the next directory made; try a few names in case not.
  let reused: string | undefined;
  for (let i = 0; i < 50 && reused === undefined; i++) {
    const next = join(parent, `b${i}`);
    mkdirSync(next);
    if (statSync(next).ino === firstIno) reused = next;
  }
  if (reused === undefined) {
    t.log(`this file system did not reuse inode ${firstIno} in 50 tries: the collision cannot happen here`);
    t.pass();
  } else {
    const lock = await lockFolder(reused);
    t.true(lock.ok, `the folder ${reused} (inode ${firstIno} again) is refused as held by pid ${lock.ok ? '' : String(lock.holder)}`);
    if (lock.ok) await lock.release();
  }
  if (held.ok) await held.release();
});
