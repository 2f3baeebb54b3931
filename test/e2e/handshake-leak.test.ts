/**
 * Clients answered that never complete the handshake, on real FIFOs against the real server. The
 * test plays the client by hand, so the moment it stops is exact: it reads the connect answer and
 * never opens its request FIFO. To the server this is the same as a client SIGKILLed between the
 * server opening its FIFOs and the server's first look for a writer on the request FIFO, the race
 * behind a rare failure of faults.test.ts (the request and response FIFOs of one killed client
 * stayed open in the server for good; its notification FIFO did not).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants as C, openSync, readSync, writeSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { removeFileSync } from '../../runtime/os/fifo.js';
import { type ServerFixture, ask, openFds, startClient, startServer, uniqueId, waitUntilSeen } from '../helpers/processes.js';

type HandClient = { paths: string[]; resp: number; answer: number[]; close(): void };

/** Makes the three FIFOs, opens resp and notif (never req), sends connect and reads the answer. */
async function connectByHand(t: ExecutionContext, server: ServerFixture): Promise<HandClient> {
  const id = uniqueId();
  const paths = [`/tmp/hreq${id}`, `/tmp/hresp${id}`, `/tmp/hnotif${id}`];
  t.teardown(() => paths.forEach((path) => removeFileSync(path)));
  execFileSync('mkfifo', ['-m', '600', '--', ...paths]);
  const resp = openSync(paths[1]!, C.O_RDONLY | C.O_NONBLOCK);
  const notif = openSync(paths[2]!, C.O_RDONLY | C.O_NONBLOCK);
  let open = true;
  const close = () => {
    if (open) [resp, notif].forEach((fd) => closeSync(fd));
    open = false;
  };
  t.teardown(close);
  const field = (path: string) => {
    const bytes = Buffer.alloc(40);
    bytes.write(path, 'latin1');
    return bytes;
  };
  // The server holds the registration FIFO O_RDWR, so this open never waits.
  const register = openSync(server.fifo, C.O_WRONLY | C.O_NONBLOCK);
  writeSync(register, Buffer.concat([Buffer.from([1]), ...paths.map(field)]));
  closeSync(register);
  const answer = Buffer.alloc(2);
  let got = 0;
  await waitUntilSeen('the connect answer', () => {
    try {
      got += readSync(resp, answer, got, 2 - got, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
    return { ok: got === 2, seen: `${got} bytes; server stderr ${JSON.stringify(server.stderr)}` };
  });
  return { paths, resp, answer: [...answer], close };
}

/** Polls until the server holds none of `paths`; a session that failed on the way is reported at once. */
async function serverReleases(server: ServerFixture, paths: readonly string[]): Promise<void> {
  await waitUntilSeen(`the server (pid ${server.pid}) to close its ends of ${paths.join(', ')}`, async () => {
    if (/session \d+ failed/.test(server.stderr)) throw new Error(`a session failed: ${server.stderr}`);
    const held = (await openFds(server.pid)).filter((fd) => paths.includes(fd.target.replace(/ \(deleted\)$/, '')));
    return { ok: held.length === 0, seen: `${held.map((fd) => `${fd.fd}->${fd.target}`).join(' ')}; stderr ${JSON.stringify(server.stderr)}` };
  });
}

test('a client that reads the connect answer and goes away without opening its request FIFO leaves no descriptor open in the server', async (t) => {
  const server = await startServer(t, { sessions: 1, jobs: { 'a.job': 'WRITE [(k,0)]\n' } });
  const client = await connectByHand(t, server);
  t.deepEqual(client.answer, [1, 0]);
  client.close();
  await serverReleases(server, client.paths);
  t.regex(server.stderr, /did not open its request and notification FIFOs within \d+ ms of the answer/);
  // The one session is free again, and whole.
  const next = await startClient(t, server.fifo);
  t.is(await ask(next, 'SUBSCRIBE k', 'subscribe'), '0');
  t.notRegex(server.stderr, /failed/);
});

test('a client that stays but never opens its request FIFO sees EOF on its response FIFO at the deadline', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const client = await connectByHand(t, server);
  t.deepEqual(client.answer, [1, 0]);
  // EOF (0) once the server's writer is gone; EAGAIN while it still holds the FIFO.
  await waitUntilSeen('EOF on the response FIFO', () => {
    if (/session \d+ failed/.test(server.stderr)) throw new Error(`a session failed: ${server.stderr}`);
    try {
      return { ok: readSync(client.resp, Buffer.alloc(1), 0, 1, null) === 0, seen: 'bytes after the answer' };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      return { ok: false, seen: `the server still holds it; stderr ${JSON.stringify(server.stderr)}` };
    }
  });
  await serverReleases(server, client.paths);
  t.notRegex(server.stderr, /failed/);
});
