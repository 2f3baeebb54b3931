/**
 * A client that keeps reading gets every notification of a burst, in order (up to the per-session
 * hard cap, 32 MiB queued); one that never reads is dropped, and the others carry on.
 */
import test from 'ava';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ask, startClient, startRawClient, startServer, waitUntil } from '../helpers/processes.js';

const BURST = 300_000;

test('a client that keeps reading gets all of a 300,000-write burst in order; one that never reads is dropped', async (t) => {
  const server = await startServer(t, { jobs: { 'init.job': 'WRITE [(k,0)]\n' } });
  const reader = await startClient(t, server.fifo);
  t.is(await ask(reader, 'SUBSCRIBE k', 'subscribe'), '0');
  const idle = startRawClient(t, server.fifo);
  idle.send('subscribe k');
  await waitUntil(`the idle client's subscription (stdout: ${idle.stdout}, stderr: ${idle.stderr})`, () => idle.stdout.includes('response 3 0'));

  const lines: string[] = [];
  for (let i = 1; i <= BURST; i++) lines.push(`WRITE [(k,${i})]`);
  // Written aside and renamed in, so the watcher sees it whole at once.
  const aside = join(server.dir, 'burst.tmp');
  writeFileSync(aside, `${lines.join('\n')}\n`);
  renameSync(aside, join(server.dir, 'burst.job'));

  await waitUntil(`the idle client to be dropped (server stderr: ${server.stderr.slice(-2000)})`, () => /not reading its notifications/.test(server.stderr), 120_000);
  await waitUntil(
    `the last notification (the reader has ${reader.lines().length} lines; server stderr: ${server.stderr.slice(-2000)})`,
    () => reader.stdout.includes(`(k,${BURST})\n`) || !reader.alive,
    120_000,
  );
  const values = reader.lines().filter((line) => line.startsWith('(k,')).map((line) => Number(line.slice(3, -1)));
  t.is(values.length, BURST, `${values.length} notifications received`);
  let inOrder = true;
  for (let i = 0; i < values.length; i++) if (values[i] !== i + 1) inOrder = false;
  t.true(inOrder, 'every value, in the order written');
  t.is((server.stderr.match(/not reading its notifications/g) ?? []).length, 1, 'only the idle client was dropped');
  t.true(server.alive && reader.alive, server.stderr);
  // A figure for the report, not an assertion: the server's peak memory through the burst.
  t.log(/VmHWM:\s+\d+ kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[0]);
});
