/**
 * SIGHUP, as when the terminal that runs the server closes or an ssh session drops: a clean
 * shutdown like SIGTERM's, never a lost `.out` or a registration FIFO left behind. (Batch mode's
 * SIGHUP is in batch-signals.test.ts.)
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readBytes } from '../helpers/batch.js';
import { startClient, startServer, waitUntil, writeJob } from '../helpers/processes.js';

test('SIGHUP shuts a server down cleanly: sessions end, a job under way keeps what ran, the FIFO is removed, exit 0', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const client = await startClient(t, server.fifo);
  await writeJob(server.dir, 'long.job', 'WRITE [(a,1)]\nREAD [a]\nBACKUP\nWAIT 600000\nREAD [a]\n');
  const out = join(server.dir, 'long.out');
  // The backup is taken just before the WAIT: once it is written, the job is at its WAIT.
  await waitUntil('long-1.bck, written as long.job reaches its WAIT', () => existsSync(join(server.dir, 'long-1.bck')));
  server.child.kill('SIGHUP');
  t.is(await server.waitForExit(), 0, server.stderr);
  t.regex(server.stderr, /stopping \(SIGHUP\)/);
  t.false(existsSync(server.fifo), 'the registration FIFO is removed');
  t.is(readBytes(out), '[(a,1)]\nWaiting...\n');
  t.is(await client.waitForExit(), 1);
});
