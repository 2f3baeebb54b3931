/**
 * A client that keeps reading gets every notification of a burst, in order (up to the per-session
 * hard cap, 32 MiB queued), and so does one that pauses (stopped, as by Ctrl-Z or a starved CPU)
 * for a while inside the limits' windows. One that never reads is dropped: test/e2e/sessions.test.ts.
 */
import test, { type ExecutionContext } from 'ava';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClientFixture, type ServerFixture, ask, startClient, startServer, waitUntil } from '../helpers/processes.js';

const BURST = 300_000;

/** Drops a job of `writes` WRITEs of key k (values 1..writes) into the folder, whole at once. */
function dropBurst(dir: string, writes: number): void {
  const lines: string[] = [];
  for (let i = 1; i <= writes; i++) lines.push(`WRITE [(k,${i})]`);
  // Written aside and renamed in, so the watcher sees it whole at once.
  const aside = join(dir, 'burst.tmp');
  writeFileSync(aside, `${lines.join('\n')}\n`);
  renameSync(aside, join(dir, 'burst.job'));
}

/** Waits for (k,writes), then checks that the reader got every value in order and kept its session. */
async function expectEveryValue(t: ExecutionContext, server: ServerFixture, reader: ClientFixture, writes: number): Promise<void> {
  await waitUntil(
    `the last notification (the reader has ${reader.lines().length} lines; server stderr: ${server.stderr.slice(-2000)})`,
    () => reader.stdout.includes(`(k,${writes})\n`) || !reader.alive,
    120_000,
  );
  const values = reader.lines().filter((line) => line.startsWith('(k,')).map((line) => Number(line.slice(3, -1)));
  t.is(values.length, writes, `${values.length} notifications received`);
  let inOrder = true;
  for (let i = 0; i < values.length; i++) if (values[i] !== i + 1) inOrder = false;
  t.true(inOrder, 'every value, in the order written');
  t.notRegex(server.stderr, /not reading its notifications/, 'no session dropped');
  t.true(server.alive && reader.alive, server.stderr);
}

test('a client that keeps reading gets all of a 300,000-write burst in order', async (t) => {
  const server = await startServer(t, { jobs: { 'init.job': 'WRITE [(k,0)]\n' } });
  const reader = await startClient(t, server.fifo);
  t.is(await ask(reader, 'SUBSCRIBE k', 'subscribe'), '0');
  dropBurst(server.dir, BURST);
  await expectEveryValue(t, server, reader, BURST);
  // A figure for the report, not an assertion: the server's peak memory through the burst.
  t.log(/VmHWM:\s+\d+ kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[0]);
});

test('a reader stopped (SIGSTOP) for 5 s with a burst queued, then resumed, keeps its session and gets everything', async (t) => {
  // 60,000 frames: 4.9 MB, past the stall rule's 256 KiB and under the soft 8 MiB.
  const writes = 60_000;
  const server = await startServer(t, { jobs: { 'init.job': 'WRITE [(k,0)]\n' } });
  const reader = await startClient(t, server.fifo);
  t.is(await ask(reader, 'SUBSCRIBE k', 'subscribe'), '0');
  reader.child.kill('SIGSTOP');
  t.teardown(() => reader.child.kill('SIGCONT'));
  dropBurst(server.dir, writes);
  await waitUntil(`the burst to be applied (server stderr: ${server.stderr.slice(-2000)})`, () => server.stderr.includes('burst.job done'), 120_000);
  // The pause itself (not a check): longer than the 2 s that used to drop a reader.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  t.notRegex(server.stderr, /not reading its notifications/, 'still in session while stopped');
  reader.child.kill('SIGCONT');
  await expectEveryValue(t, server, reader, writes);
});
