/** A client the server answers no (a queued client at shutdown) says why it ends, not only the code. */
import test from 'ava';
import { startClient, startServer, waitUntil } from '../helpers/processes.js';

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
