/** A client the server answers no, or may not reach, says why it ends in words. */
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { createFifos, openRegistrationEnd, removeFileSync } from '../../runtime/os/fifo.js';
import { CLIENT, clientFifos, startClient, startServer, tempDir, uniqueId, waitUntil } from '../helpers/processes.js';

test('a client still queued when the server shuts down says it was refused, and exits 1', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  await startClient(t, server.fifo);
  const waiting = await startClient(t, server.fifo, { awaitConnect: false });
  await waitUntil(`the waiting notice (stderr: ${waiting.stderr})`, () => waiting.stderr.includes('waiting for a free session'));
  server.child.kill('SIGTERM');
  t.is(await waiting.waitForExit(), 1);
  t.deepEqual(waiting.lines(), ['Server returned 1 for operation: connect']);
  t.regex(waiting.stderr, /\nkvs-client: the server refused the session \(it is shutting down, or one of our FIFOs is in use\)\n$/);
});

test('a registration FIFO the client may not write is said as permission denied, not as a raw EACCES', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'register_fifo');
  await createFifos([fifo], { mode: 0o600 });
  // Someone reads it, as a server does; the client runs as another user (root passes any mode).
  const server = await openRegistrationEnd(fifo);
  t.teardown(() => server.destroy());
  const asOther = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  if (process.getuid?.() !== 0) chmodSync(fifo, 0);
  chmodSync(dir, 0o755);
  const id = uniqueId();
  t.teardown(() => clientFifos(id).forEach((path) => removeFileSync(path)));
  const run = spawnSync(process.execPath, [CLIENT, id, fifo], { encoding: 'utf8', input: '', ...asOther });
  t.is(run.status, 1, run.stderr);
  t.is(run.stderr, `kvs-client: cannot connect through ${fifo}: permission denied\n`);
});
