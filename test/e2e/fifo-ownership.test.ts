import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { encode } from '../../protocol/frames.js';
import { createFifos, openReadEnd, openWriteEnd } from '../../runtime/os/fifo.js';
import { CLIENT, Proc, SERVER_ENTRY, type ServerFixture, ask, clientFifos, startClient, startServer, tempDir, uniqueId, waitUntil, writeJob } from '../helpers/processes.js';

function runServer(t: import('ava').ExecutionContext, args: string[]): Proc {
  const proc = new Proc(spawn(process.execPath, [SERVER_ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(() => proc.stop());
  return proc;
}

const NOT_FIFOS: Array<[string, (dir: string) => Promise<string>]> = [
  ['a regular file', async (dir) => {
    const path = join(dir, 'precious.txt');
    await writeFile(path, 'precious');
    return path;
  }],
  ['a symbolic link', async (dir) => {
    await writeFile(join(dir, 'target'), 'precious');
    const path = join(dir, 'link');
    await symlink(join(dir, 'target'), path);
    return path;
  }],
  ['a directory', async (dir) => {
    const path = join(dir, 'sub');
    await mkdir(path);
    return path;
  }],
  // Never /dev/null itself: a server that replaced what it found would destroy it.
  ['a device (or, where mknod is not allowed, a socket)', async (dir) => {
    const path = join(dir, 'null-device');
    const made = await promisify(execFile)('mknod', [path, 'c', '1', '3']).then(() => true, () => false);
    if (!made) {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(path, resolve));
      // Closing the server would remove the socket file: keep it open until the process ends.
      server.unref();
    }
    return path;
  }],
];

for (const [kind, make] of NOT_FIFOS) {
  test.serial(`the server refuses a registration path that is ${kind}, leaves it as it is, and exits 1`, async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'jobs'));
    const path = await make(dir);
    const before = await lstat(path);
    const server = runServer(t, [join(dir, 'jobs'), '2', '1', path]);
    t.is(await server.waitForExit(), 1);
    const lines = server.stderr.split('\n').filter((l) => l !== '');
    t.is(lines.length, 1, server.stderr);
    t.true(lines[0]!.startsWith(`kvs: ${path}: exists and is not a FIFO`), server.stderr);
    const after = await lstat(path);
    t.is(after.ino, before.ino);
    t.is(after.mode, before.mode);
    if (after.isFile()) t.is(await readFile(path, 'utf8'), 'precious');
    if (after.isSymbolicLink()) t.is(await readlink(path), join(dir, 'target'));
  });
}

test.serial("a second server on a running server's FIFO is refused; the first keeps serving through it", async (t) => {
  const first = await startServer(t);
  const inode = (await lstat(first.fifo)).ino;
  // A folder of its own: a second run on the first's folder is refused before it looks at the FIFO.
  const second = runServer(t, [tempDir(t), '1', '1', first.fifo]);
  t.is(await second.waitForExit(), 1);
  t.regex(second.stderr, /is the registration FIFO of a running server/);
  t.is((await lstat(first.fifo)).ino, inode);
  const client = await startClient(t, first.fifo);
  t.is(await ask(client, 'SUBSCRIBE none', 'subscribe'), '1');
});

test.serial('a client never deletes a regular file at one of its FIFO paths, and exits 1', async (t) => {
  const server = await startServer(t);
  const id = uniqueId();
  const [req, resp, notif] = clientFifos(id) as [string, string, string];
  await writeFile(resp, 'precious');
  t.teardown(() => import('node:fs/promises').then((fs) => fs.rm(resp, { force: true })));
  const client = await startClient(t, server.fifo, { id, awaitConnect: false });
  t.is(await client.waitForExit(), 1);
  t.regex(client.stderr, new RegExp(`${resp}: exists and is not a FIFO \\(it is a regular file\\)`));
  t.is(await readFile(resp, 'utf8'), 'precious');
  t.false(existsSync(req));
  t.false(existsSync(notif));
});

test.serial('a client refuses an id whose FIFOs a live client holds; the live one carries on', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const first = await startClient(t, server.fifo);
  const inodes = await Promise.all(clientFifos(first.id).map(async (p) => (await lstat(p)).ino));
  const second = new Proc(spawn(process.execPath, [CLIENT, first.id, server.fifo], { stdio: ['pipe', 'pipe', 'pipe'] }));
  t.teardown(() => second.stop());
  t.is(await second.waitForExit(), 1);
  t.regex(second.stderr, /is in use: another client with id .* is running/);
  t.deepEqual(await Promise.all(clientFifos(first.id).map(async (p) => (await lstat(p)).ino)), inodes);
  t.is(await ask(first, 'SUBSCRIBE k', 'subscribe'), '0');
  await writeJob(server.dir, 'b.job', 'WRITE [(k,2)]\n');
  await first.waitForOutput('(k,2)\n');
});

/** A hostile client B: its own FIFOs in `dir`, with read ends open so that answers can be seen. */
async function hostile(t: import('ava').ExecutionContext, dir: string, name: string) {
  const paths = { req: join(dir, `${name}q`), resp: join(dir, `${name}r`), notif: join(dir, `${name}n`) };
  await createFifos([paths.req, paths.resp, paths.notif]);
  const resp: net.Socket = await openReadEnd(paths.resp);
  const notif: net.Socket = await openReadEnd(paths.notif);
  t.teardown(() => {
    resp.destroy();
    notif.destroy();
  });
  let answer = Buffer.alloc(0);
  resp.on('data', (chunk: Buffer) => (answer = Buffer.concat([answer, chunk])));
  return { paths, answer: () => answer };
}

async function sendConnect(server: ServerFixture, req: string, resp: string, notif: string): Promise<void> {
  const register = await openWriteEnd(server.fifo, AbortSignal.timeout(5000));
  await new Promise<void>((resolve) => register.end(encode({ kind: 'connect', reqPipe: req, respPipe: resp, notifPipe: notif }), resolve));
  register.destroy();
}

test.serial("a connect request naming another session's FIFOs or the registration FIFO is refused; that session is unaffected", async (t) => {
  const server = await startServer(t, { sessions: 4, jobs: { 'a.job': 'WRITE [(k,0)(other,0)]\n' } });
  const a = await startClient(t, server.fifo);
  t.is(await ask(a, 'SUBSCRIBE k', 'subscribe'), '0');
  const [aReq, aResp, aNotif] = clientFifos(a.id) as [string, string, string];
  const dir = await tempDir(t);
  const b1 = await hostile(t, dir, 'b1');
  const b2 = await hostile(t, dir, 'b2');
  const b3 = await hostile(t, dir, 'b3');
  const b4 = await hostile(t, dir, 'b4');
  // A's notification FIFO and A's request FIFO, with B's own response FIFO: told no there.
  await sendConnect(server, b1.paths.req, b1.paths.resp, aNotif);
  await sendConnect(server, aReq, b2.paths.resp, b2.paths.notif);
  // The registration FIFO as a request FIFO: told no.
  await sendConnect(server, server.fifo, b3.paths.resp, b3.paths.notif);
  // A's response FIFO: not B's to be told anything; dropped.
  await sendConnect(server, b4.paths.req, aResp, b4.paths.notif);
  await waitUntil(`four refusals in the server's log (stderr: ${server.stderr})`, () => (server.stderr.match(/connect refused: .* is in use: /g) ?? []).length === 4);
  for (const b of [b1, b2, b3]) await waitUntil('the error answer', () => b.answer().length === 2);
  for (const b of [b1, b2, b3]) t.deepEqual([...b.answer()], [1, 1]);
  t.regex(server.stderr, new RegExp(`${aResp}: is in use: the response FIFO of session`));
  t.regex(server.stderr, /is in use: the registration FIFO/);
  // A's session: its own answers only, in step, every request served, only its notifications.
  for (let i = 0; i < 20; i++) {
    t.is(await ask(a, 'UNSUBSCRIBE k', 'unsubscribe'), '0');
    t.is(await ask(a, 'SUBSCRIBE k', 'subscribe'), '0');
  }
  await writeJob(server.dir, 'b.job', 'WRITE [(other,1)]\nWRITE [(k,1)]\n');
  await a.waitForOutput('(k,1)\n');
  t.deepEqual(a.lines().filter((l) => !l.startsWith('Server returned 0 for operation: ')), ['(k,1)']);
  t.is(a.lines().filter((l) => l.endsWith('operation: connect')).length, 1);
  t.true(a.alive);
  t.is(b4.answer().length, 0);
});
