/**
 * A FIFO path that cannot be used is said in a user's words, once, by the server (its
 * registration FIFO, a client's FIFOs in a connect request) and by the client: not as `ENOTDIR`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { encode } from '../../protocol/frames.js';
import { CLIENT, Proc, SERVER_ENTRY, ask, startClient, startServer, tempDir, uniqueId, waitUntil } from '../helpers/processes.js';

const RAW_CODE = /\bE[A-Z]{3,}\b/;

const BAD_PATHS: Array<[string, (dir: string) => string, string]> = [
  ['under a regular file', (dir) => join(dir, 'file', 'register'), 'cannot be used: a part of its path is not a folder'],
  ['with a name longer than the system allows', (dir) => join(dir, 'r'.repeat(300)), 'cannot be used: the path or one of its names is too long'],
];

for (const [what, pathIn, reason] of BAD_PATHS) {
  test(`a registration path ${what} is one line in words and exit 1`, async (t) => {
    const dir = await tempDir(t);
    writeFileSync(join(dir, 'file'), 'kept\n');
    const path = pathIn(dir);
    const server = new Proc(spawn(process.execPath, [SERVER_ENTRY, dir, '1', '1', path], { stdio: ['ignore', 'pipe', 'pipe'] }));
    t.teardown(() => server.stop());
    t.is(await server.waitForExit(), 1);
    t.is(server.stderr, `kvs: ${path}: ${reason}\n`);
  });

  test(`a client given a registration path ${what} says why in words, exit 1`, async (t) => {
    const dir = await tempDir(t);
    writeFileSync(join(dir, 'file'), 'kept\n');
    const path = pathIn(dir);
    const run = spawnSync(process.execPath, [CLIENT, uniqueId(), path], { encoding: 'utf8', input: '' });
    t.is(run.status, 1, run.stderr);
    t.is(run.stderr, `kvs-client: cannot connect through ${path}: ${reason}\n`);
    t.notRegex(run.stderr, RAW_CODE);
  });
}

test('a connect request naming a response FIFO that does not exist is logged as such; the next client is served', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const frame = encode({ kind: 'connect', reqPipe: '/tmp/kvs-none-req', respPipe: '/tmp/kvs-none-resp', notifPipe: '/tmp/kvs-none-notif' });
  await writeFile(server.fifo, frame, { flag: 'a' });
  await waitUntil(`the refusal in the log (stderr: ${server.stderr})`, () => server.stderr.includes("cannot open the client's FIFOs"));
  t.regex(server.stderr, /^kvs: session 0 \(\/tmp\/kvs-none-req\): cannot open the client's FIFOs: \/tmp\/kvs-none-resp: does not exist$/m);
  t.notRegex(server.stderr, RAW_CODE);
  const next = await startClient(t, server.fifo);
  t.is(await ask(next, 'SUBSCRIBE none', 'subscribe'), '1');
});
