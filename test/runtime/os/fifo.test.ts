import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createFifos, hasReader, openReadEnd, openRegistrationEnd, openWriteEnd } from '../../../runtime/os/fifo.js';

async function dir(t: import('ava').ExecutionContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kvs-fifo-'));
  t.teardown(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('createFifos sets the mode exactly, whatever the umask, and replaces a stale FIFO', async (t) => {
  const d = await dir(t);
  const path = join(d, 'f');
  // A stale FIFO with the default mode 0600: the new one has 0640 (inode numbers are reused).
  await createFifos([path]);
  const old = process.umask(0o077);
  try {
    await createFifos([path], { mode: 0o640 });
  } finally {
    process.umask(old);
  }
  const s = await lstat(path);
  t.true(s.isFIFO());
  t.is(s.mode & 0o777, 0o640);
});

test('createFifos refuses a regular file, a symlink and a directory, and creates none of the FIFOs', async (t) => {
  const d = await dir(t);
  const file = join(d, 'file');
  await writeFile(file, 'precious');
  const link = join(d, 'link');
  await symlink(file, link);
  const fresh = join(d, 'fresh');
  await t.throwsAsync(createFifos([fresh, file]), { code: 'not-a-fifo', message: /exists and is not a FIFO \(it is a regular file\); it is left as it is/ });
  await t.throwsAsync(createFifos([fresh, link]), { message: /\(it is a symbolic link\)/ });
  await t.throwsAsync(createFifos([d]), { message: /\(it is a directory\)/ });
  t.is(await readFile(file, 'utf8'), 'precious');
  t.true((await lstat(link)).isSymbolicLink());
  t.false(existsSync(fresh));
});

test('createFifos refuses a FIFO that its caller says is in use, and leaves it', async (t) => {
  const d = await dir(t);
  const path = join(d, 'f');
  await createFifos([path]);
  const before = (await lstat(path)).ino;
  await t.throwsAsync(createFifos([path], { inUse: async () => 'is held' }), { code: 'in-use', message: /is held/ });
  t.is((await lstat(path)).ino, before);
});

test('a write end waits for a reader without blocking, and gives up at the deadline', async (t) => {
  const d = await dir(t);
  const path = join(d, 'f');
  await createFifos([path]);
  t.false(await hasReader(path));
  const started = Date.now();
  await t.throwsAsync(openWriteEnd(path, AbortSignal.timeout(100)), { message: /gave up waiting for a reader/ });
  t.true(Date.now() - started < 2000);
  const reader = await openReadEnd(path);
  t.teardown(() => reader.destroy());
  const writer = await openWriteEnd(path, AbortSignal.timeout(1000));
  const got = new Promise<string>((resolve) => reader.once('data', (d: Buffer) => resolve(d.toString())));
  writer.end('hello');
  t.is(await got, 'hello');
});

test('hasReader sees the server end of a registration FIFO without disturbing it', async (t) => {
  const d = await dir(t);
  const path = join(d, 'register');
  await createFifos([path]);
  t.false(await hasReader(path));
  const server = await openRegistrationEnd(path);
  t.teardown(() => server.destroy());
  t.true(await hasReader(path));
  t.true(await hasReader(path));
  server.destroy();
  await new Promise((r) => server.once('close', r));
  t.false(await hasReader(path));
});

test('a regular file and a symlink are refused before any write', async (t) => {
  const d = await dir(t);
  const file = join(d, 'file');
  await writeFile(file, 'precious');
  const link = join(d, 'link');
  const fifo = join(d, 'fifo');
  await createFifos([fifo]);
  await symlink(fifo, link);
  await t.throwsAsync(openWriteEnd(file, AbortSignal.timeout(500)), { message: /not a FIFO \(a regular file\)/ });
  await t.throwsAsync(openReadEnd(link), { message: /not a FIFO \(a symbolic link\)/ });
  await t.throwsAsync(openWriteEnd('/dev/null', AbortSignal.timeout(500)), { message: /not a FIFO \(a device or socket\)/ });
  t.is(await readFile(file, 'utf8'), 'precious');
  t.true(existsSync(fifo));
});
