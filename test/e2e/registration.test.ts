import { join } from 'node:path';
import test from 'ava';
import { CONNECT_SIZE, encode } from '../../protocol/frames.js';
import { openWriteEnd } from '../../runtime/os/fifo.js';
import { ask, clientFifos, startClient, startServer, tempDir, waitUntil } from '../helpers/processes.js';

/** Writes bytes on the registration FIFO as a real writer would, and closes it. */
async function writeRaw(fifo: string, bytes: Buffer): Promise<void> {
  const register = await openWriteEnd(fifo, AbortSignal.timeout(5000));
  await new Promise<void>((resolve) => register.end(bytes, resolve));
  register.destroy();
}

const PARTIALS: Array<[string, Buffer]> = [
  ['120 of the 121 bytes of a connect request', encode({ kind: 'connect', reqPipe: '/tmp/reqX', respPipe: '/tmp/respX', notifPipe: '/tmp/notifX' }).subarray(0, CONNECT_SIZE - 1)],
  ['a lone connect op code', Buffer.of(1)],
];

for (const [what, bytes] of PARTIALS) {
  test.serial(`${what}, then nothing: dropped and logged once, and the next client connects`, async (t) => {
    const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
    await writeRaw(server.fifo, bytes);
    const line = `kvs: registration FIFO: dropped an incomplete connect request (${bytes.length} of ${CONNECT_SIZE} bytes`;
    await waitUntil(`the drop in the server's log (stderr: ${server.stderr})`, () => server.stderr.includes(line));
    const client = await startClient(t, server.fifo);
    t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '0');
    t.is(server.stderr.split(line).length - 1, 1);
  });
}

test.serial('the server says once that it serves clients, naming the FIFO and the sessions', async (t) => {
  const server = await startServer(t, { sessions: 3 });
  const line = `kvs: serving clients on ${server.fifo} (3 sessions)\n`;
  await waitUntil(`the ready line (stderr: ${server.stderr})`, () => server.stderr.includes(line));
  await server.stop();
  t.is(server.stderr.split(line).length - 1, 1);
});

test.serial('with --quiet the server does not say it serves clients', async (t) => {
  const server = await startServer(t, { args: ['--quiet'] });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'DISCONNECT', 'disconnect'), '0');
  await server.stop();
  t.is(server.exitCode, 0);
  t.false(server.stderr.includes('serving clients'), server.stderr);
});

test.serial('a client queued behind busy sessions says it is waiting, then is served', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const first = await startClient(t, server.fifo);
  const second = await startClient(t, server.fifo, { awaitConnect: false });
  await waitUntil(`the waiting notice (stderr: ${second.stderr})`, () => second.stderr.includes(`kvs-client: waiting for a free session on ${server.fifo}`));
  t.false(second.stdout.includes('operation: connect'));
  t.is(await ask(first, 'DISCONNECT', 'disconnect'), '0');
  await second.waitForOutput('Server returned 0 for operation: connect\n');
  t.is(second.stderr.split('waiting for a free session').length - 1, 1);
});

test.serial('a client with no server at the path says that no server serves it, and exits 1', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'register_fifo');
  const client = await startClient(t, path, { awaitConnect: false });
  t.is(await client.waitForExit(), 1);
  t.is(client.stderr, `kvs-client: no server is serving ${path} (there is no such file)\n`);
  t.false(client.stderr.includes('ENOENT'));
  for (const fifo of clientFifos(client.id)) t.false((await import('node:fs')).existsSync(fifo));
});
