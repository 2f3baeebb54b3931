/**
 * stdout or stderr closed under a running program, as `2>&1 | head` or a log reader that died
 * does: the kvs program carries on and its output files are whole; the client ends at once
 * without a stack trace. Real processes; the test closes its end of their pipes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { readBytes, startKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { CLIENT, Proc, ask, clientFifos, startClient, startServer, uniqueId } from '../helpers/processes.js';
import { removeFileSync } from '../../runtime/os/fifo.js';

const LINES = 300;

test('a batch run whose stderr is closed after its first line writes every .out whole and exits 0', async (t) => {
  const dir = tempDir(t);
  // A bad line before each command: stderr is written all along the run, long after it is closed.
  writeFiles(dir, { 'a.job': Array.from({ length: LINES }, (_, i) => `BAD${i}\nWRITE [(k${i},${i})]\nREAD [k${i}]\nWAIT 1\n`).join('') });
  const run = startKvs(t, [dir, '1', '1', '--quiet']);
  let closedWhileRunning = false;
  run.child.stderr!.once('data', () => {
    closedWhileRunning = run.child.exitCode === null;
    run.child.stderr!.destroy();
  });
  const result = await run.result;
  t.true(closedWhileRunning, 'stderr was closed while the run went on');
  t.is(result.code, 0);
  const expected = Array.from({ length: LINES }, (_, i) => `[(k${i},${i})]\nWaiting...\n`).join('');
  t.is(readBytes(join(dir, 'a.out')), expected);
});

test('a server whose stderr is closed goes on serving, and SIGTERM still ends it cleanly', async (t) => {
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  server.child.stderr!.destroy();
  // Something for the server to say: a malformed connect request.
  await writeFile(server.fifo, Buffer.of(0, 0, 0), { flag: 'a' });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '0');
  await writeFile(join(server.dir, 'b.job'), 'WRITE [(k,2)]\n');
  await client.waitForOutput('(k,2)\n');
  await server.stop();
  t.is(server.exitCode, 0);
  t.false(existsSync(server.fifo), 'the registration FIFO is removed');
});

test('a client whose stdout is closed ends at once with 141, no stack trace, and removes its FIFOs', async (t) => {
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const id = uniqueId();
  const client = new Proc(spawn(process.execPath, [CLIENT, id, server.fifo], { stdio: ['pipe', 'pipe', 'pipe'] }));
  client.child.stdin!.on('error', () => {});
  t.teardown(async () => {
    if (client.alive) client.child.kill('SIGKILL');
    await client.exited;
    for (const path of clientFifos(id)) removeFileSync(path);
  });
  await client.waitForOutput('Server returned 0 for operation: connect\n');
  client.child.stdout!.destroy();
  client.child.stdin!.write('SUBSCRIBE k\n');
  t.is(await client.waitForExit(), 141, client.stderr);
  t.is(client.stderr, '');
  t.false(clientFifos(id).some((path) => existsSync(path)), 'its FIFOs are removed');
});
