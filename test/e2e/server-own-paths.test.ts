/**
 * The server's registration FIFO and jobs folder removed or replaced while it runs (a cleanup of
 * /tmp, a mistaken rm): said once; a removed FIFO is made again; anything else put at its path is
 * left as it is; the sessions under way go on.
 */
import { existsSync, lstatSync } from 'node:fs';
import { readFile, rm, unlink, writeFile } from 'node:fs/promises';
import test from 'ava';
import { hasReader } from '../../runtime/os/fifo.js';
import { ask, startClient, startServer, waitUntilSeen } from '../helpers/processes.js';

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

test('a registration FIFO removed while serving is said and made again; new clients connect, and shutdown removes it', async (t) => {
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const before = await startClient(t, server.fifo);
  await unlink(server.fifo);
  const line = `kvs: the registration FIFO ${server.fifo} was removed while serving: creating it again\n`;
  await waitUntilSeen('the FIFO made again, with the server reading it', async () => {
    const back = existsSync(server.fifo) && lstatSync(server.fifo).isFIFO() && (await hasReader(server.fifo).catch(() => false));
    return { ok: back && server.stderr.includes(line), seen: `FIFO back: ${back}, stderr ${JSON.stringify(server.stderr)}` };
  });
  const after = await startClient(t, server.fifo).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the server said: ${JSON.stringify(server.stderr)}`);
  });
  t.is(await ask(after, 'SUBSCRIBE k', 'subscribe'), '0');
  t.is(await ask(before, 'SUBSCRIBE k', 'subscribe'), '0', 'the session from before goes on');
  await server.stop();
  t.is(server.exitCode, 0);
  t.false(existsSync(server.fifo), 'the FIFO it made again is removed at shutdown');
  t.is(count(server.stderr, line), 1);
});

test('a regular file put at the registration path while serving is said once and left as it is', async (t) => {
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const before = await startClient(t, server.fifo);
  await unlink(server.fifo);
  await writeFile(server.fifo, 'precious\n');
  const line = `kvs: the registration FIFO ${server.fifo} was replaced by another file while serving: it is left as it is, and no new client can connect\n`;
  await waitUntilSeen('the replacement said', () => ({ ok: server.stderr.includes(line), seen: `stderr ${JSON.stringify(server.stderr)}` }));
  t.is(await ask(before, 'SUBSCRIBE k', 'subscribe'), '0', 'the session from before goes on');
  await server.stop();
  t.is(server.exitCode, 0);
  t.is(await readFile(server.fifo, 'utf8'), 'precious\n');
  t.is(count(server.stderr, line), 1);
  t.false(server.stderr.includes('creating it again'), server.stderr);
});

test('a jobs folder removed while serving is said once; clients are still served', async (t) => {
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  await rm(server.dir, { recursive: true });
  const line = `kvs: the jobs folder ${server.dir} was removed while serving: job files put there are not run (the sessions go on)\n`;
  await waitUntilSeen('the removal said', () => ({ ok: server.stderr.includes(line), seen: `stderr ${JSON.stringify(server.stderr)}` }));
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '0');
  await server.stop();
  t.is(server.exitCode, 0);
  t.is(count(server.stderr, line), 1);
});
