/**
 * The folder lock in one process: of many takers at the same moment exactly one holds it, the
 * others hear the holder's pid; released, it can be taken again; another folder is another lock.
 */
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
