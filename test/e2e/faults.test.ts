import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, readFile, writeFile } from 'node:fs/promises';
import test from 'ava';
import { hasReader } from '../../runtime/os/fifo.js';
import {
  DEADLINE_MS,
  Proc,
  SERVER_ENTRY,
  ask,
  clientFifos,
  nthLine,
  openFdCount,
  openFds,
  startClient,
  startRawClient,
  startServer,
  tempDir,
  waitUntil,
  waitUntilSeen,
  writeJob,
} from '../helpers/processes.js';

test('clients killed with SIGKILL at any moment leave no descriptor open in the server', async (t) => {
  const server = await startServer(t, { sessions: 4, jobs: { 'a.job': 'WRITE [(k,0)]\n' } });
  // One full session first, so every lazily opened descriptor (workers, watchers) exists already.
  const warm = await startClient(t, server.fifo);
  await ask(warm, 'SUBSCRIBE k', 'subscribe');
  await ask(warm, 'DISCONNECT', 'disconnect');
  await warm.waitForExit();
  let before = -1;
  await waitUntil('the descriptor count to settle after the warm-up', async () => {
    const count = await openFdCount(server.pid);
    const settled = count === before;
    before = count;
    return settled;
  }, DEADLINE_MS, 200);

  const killed: string[] = [];
  for (let round = 0; round < 20; round++) {
    const clients = await Promise.all([0, 1, 2].map(() => startClient(t, server.fifo, { awaitConnect: false })));
    // Kill at different moments: before connecting, right after, and while subscribed.
    const moment = round % 3;
    // A client killed while queued holds a session until the handshake deadline: allow for a few.
    if (moment >= 1) await clients[0]!.waitForOutput('operation: connect');
    if (moment === 2) {
      clients[0]!.send('SUBSCRIBE k');
      await clients[0]!.waitForOutput('operation: subscribe');
    }
    for (const client of clients) {
      killed.push(client.id);
      client.child.kill('SIGKILL');
    }
    await Promise.all(clients.map((c) => c.exited));
  }
  await writeJob(server.dir, 'b.job', 'WRITE [(k,1)]\n');
  // Sessions of dead clients end on EOF, EPIPE or the handshake deadline. A leak is a descriptor
  // still on a dead client's FIFO, or more descriptors than the settled baseline; fewer is fine
  // (the runtime may close something it opened lazily), so the count is compared with <=, and
  // the wait polls until both hold, reporting what it last saw.
  const dead = new Set(killed.flatMap((id) => clientFifos(id)));
  await waitUntilSeen(`no descriptor on a killed client's FIFO and at most the ${before} descriptors of the baseline`, async () => {
    const fds = await openFds(server.pid);
    const leaked = fds.filter((fd) => dead.has(fd.target.replace(/ \(deleted\)$/, '')));
    return { ok: leaked.length === 0 && fds.length <= before, seen: `${fds.length} open: ${fds.map((fd) => `${fd.fd}->${fd.target}`).join(' ')}` };
  }, DEADLINE_MS, 100);
  t.log(`open descriptors: ${before} before, ${await openFdCount(server.pid)} after 60 clients killed`);
  t.true(server.alive);
  // A dead client ends its session; it never makes one fail (the server would replace it).
  t.notRegex(server.stderr, /session \d+ failed/);
  const last = await startClient(t, server.fifo);
  t.is(await ask(last, 'SUBSCRIBE k', 'subscribe'), '0');
});

test('SIGUSR1 while jobs write and clients are subscribed ends every session; new clients are served at once', async (t) => {
  const server = await startServer(t, { sessions: 3, jobs: { 'a.job': 'WRITE [(k,0)]\n' } });
  const clients = await Promise.all([0, 1].map(() => startClient(t, server.fifo)));
  const raw = startRawClient(t, server.fifo);
  t.is(await nthLine(raw, 3), 'response 1 0');
  for (const c of clients) t.is(await ask(c, 'SUBSCRIBE k', 'subscribe'), '0');
  // A long job keeps writing k while the signal lands.
  const writes = Array.from({ length: 400 }, (_, i) => `WRITE [(k,${i + 1})]\nWAIT 5`).join('\n');
  await writeJob(server.dir, 'busy.job', `${writes}\n`);
  await clients[0]!.waitForOutput('(k,1)\n');
  server.child.kill('SIGUSR1');
  for (const c of clients) {
    t.is(await c.waitForExit(), 1);
    t.regex(c.stderr, /server closed the session/);
    for (const path of clientFifos(c.id)) t.false(existsSync(path));
  }
  raw.send('response');
  t.is(await nthLine(raw, 4), 'eof');
  t.true(server.alive);
  // Values arrived in order up to the signal.
  const values = clients[0]!.lines().filter((l) => l.startsWith('(k,')).map((l) => Number(l.slice(3, -1)));
  t.deepEqual(values, [...values].sort((a, b) => a - b));

  const fresh = await startClient(t, server.fifo);
  t.is(await ask(fresh, 'SUBSCRIBE k', 'subscribe'), '0');
  await fresh.waitForOutput('(k,');
  server.child.kill('SIGUSR1');
  t.is(await fresh.waitForExit(), 1);
  const again = await startClient(t, server.fifo);
  t.is(await ask(again, 'SUBSCRIBE k', 'subscribe'), '0');
});

test('SIGTERM ends every session, tells waiting clients no, removes the registration FIFO and exits 0', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const connected = await startClient(t, server.fifo);
  const waiting = await startClient(t, server.fifo, { awaitConnect: false });
  await waitUntil('the waiting client to create its FIFOs', () => existsSync(`/tmp/req${waiting.id}`));
  server.child.kill('SIGTERM');
  t.is(await server.waitForExit(), 0);
  t.false(existsSync(server.fifo));
  t.is(await connected.waitForExit(), 1);
  t.is(await waiting.waitForExit(), 1);
});

test('a stale FIFO at the registration path is replaced; a regular file there is refused and kept', async (t) => {
  const first = await startServer(t);
  first.child.kill('SIGKILL');
  await first.exited;
  t.true((await lstat(first.fifo)).isFIFO());
  const second = new Proc(spawn(process.execPath, [SERVER_ENTRY, first.dir, '1', '1', first.fifo], { stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(() => second.stop());
  await waitUntil('the second server to serve', () => hasReader(first.fifo).catch(() => false));
  const client = await startClient(t, first.fifo);
  t.is(await ask(client, 'SUBSCRIBE none', 'subscribe'), '1');
  await second.stop();
  const file = `${first.fifo}.txt`;
  await writeFile(file, 'stale');
  const third = new Proc(spawn(process.execPath, [SERVER_ENTRY, first.dir, '1', '1', file], { stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(() => third.stop());
  t.is(await third.waitForExit(), 1);
  t.regex(third.stderr, /exists and is not a FIFO \(it is a regular file\)/);
  t.is(await readFile(file, 'utf8'), 'stale');
});

test('a registration path that cannot be created is a clear error and exit 1', async (t) => {
  const dir = await tempDir(t);
  const server = new Proc(spawn(process.execPath, [SERVER_ENTRY, dir, '1', '1', '/nonexistent-dir/register'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(() => server.stop());
  t.is(await server.waitForExit(), 1);
  t.regex(server.stderr, /\/nonexistent-dir\/register: cannot create FIFO: No such file or directory\n/);
  t.notRegex(server.stderr, /mkfifo:/, 'the path is said once, not again in mkfifo\'s words');
  // Nothing ran, so there is no run summary to print.
  t.notRegex(server.stderr, /files, .* commands/);
});

test('a client stopped with SIGINT removes its FIFOs, and the server ends its session', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const client = await startClient(t, server.fifo);
  client.child.kill('SIGINT');
  t.is(await client.waitForExit(), 130);
  for (const path of clientFifos(client.id)) t.false(existsSync(path));
  const next = await startClient(t, server.fifo);
  t.is(await ask(next, 'SUBSCRIBE none', 'subscribe'), '1');
});
