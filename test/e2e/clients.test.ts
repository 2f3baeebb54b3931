import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import test from 'ava';
import { CLIENT, ask, clientFifos, startClient, startServer, waitUntil, writeJob } from '../helpers/processes.js';

test("the seed's quick start: a job written into the folder notifies the subscribed client", async (t) => {
  const server = await startServer(t, { jobs: { 'test.job': 'WRITE [(key1,value1)]\nREAD [key1]\nSHOW\n' } });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE key1', 'subscribe'), '0');
  await writeJob(server.dir, 'update.job', 'WRITE [(key1,newvalue)]\n');
  await client.waitForOutput('(key1,newvalue)\n');
  // The server says when a job it picked up is done.
  await waitUntil('update.job done', () => server.stderr.includes(`${server.dir}/update.job done: 1 command, 0 invalid lines, 0 backups`));
  t.is(await ask(client, 'DISCONNECT', 'disconnect'), '0');
  t.is(await client.waitForExit(), 0);
  for (const path of clientFifos(client.id)) t.false(existsSync(path), `${path} is removed`);
});

test('DELETE of a subscribed key notifies DELETED, and every change arrives in order', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,v0)]\n' } });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE [k]', 'subscribe'), '0');
  const writes = Array.from({ length: 200 }, (_, i) => `WRITE [(k,v${i + 1})]`).join('\n');
  await writeJob(server.dir, 'b.job', `${writes}\nDELETE [k]\n`);
  await client.waitForOutput('(k,DELETED)\n');
  const seen = client.lines().filter((l) => l.startsWith('(k,'));
  t.deepEqual(seen, [...Array.from({ length: 200 }, (_, i) => `(k,v${i + 1})`), '(k,DELETED)']);
});

test('several clients each get the changes of the keys they subscribed to, and only those', async (t) => {
  const server = await startServer(t, { sessions: 4, jobs: { 'a.job': 'WRITE [(a,1)(b,1)(c,1)]\n' } });
  const clients = await Promise.all([0, 1, 2].map(() => startClient(t, server.fifo)));
  const keys = ['a', 'b', 'c'];
  await Promise.all(clients.map((c, i) => ask(c, `SUBSCRIBE ${keys[i]}`, 'subscribe')));
  await ask(clients[0]!, 'SUBSCRIBE c', 'subscribe');
  await writeJob(server.dir, 'b.job', 'WRITE [(a,2)(b,2)(c,2)]\n');
  await Promise.all([clients[0]!.waitForOutput('(c,2)'), clients[1]!.waitForOutput('(b,2)'), clients[2]!.waitForOutput('(c,2)')]);
  await clients[0]!.waitForOutput('(a,2)');
  t.deepEqual(clients[1]!.lines().filter((l) => l.startsWith('(')), ['(b,2)']);
  t.deepEqual(clients[2]!.lines().filter((l) => l.startsWith('(')), ['(c,2)']);
});

test('subscribing to a missing key fails, and no notification follows for it', async (t) => {
  const server = await startServer(t);
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE ghost', 'subscribe'), '1');
  t.is(await ask(client, 'UNSUBSCRIBE ghost', 'unsubscribe'), '1');
});

test('subscribing twice is one subscription: one notification per change', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)(z,1)]\n' } });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '0');
  t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '0');
  t.is(await ask(client, 'SUBSCRIBE z', 'subscribe'), '0');
  await writeJob(server.dir, 'b.job', 'WRITE [(k,2)]\nWRITE [(z,2)]\n');
  // z changes after k: once z's notification is here, any duplicate of k's would be too.
  await client.waitForOutput('(z,2)');
  t.deepEqual(client.lines().filter((l) => l.startsWith('(')), ['(k,2)', '(z,2)']);
  t.is(await ask(client, 'UNSUBSCRIBE k', 'unsubscribe'), '0');
  t.is(await ask(client, 'UNSUBSCRIBE k', 'unsubscribe'), '1');
});

test('after UNSUBSCRIBE the client hears no more of that key', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)(z,1)]\n' } });
  const client = await startClient(t, server.fifo);
  await ask(client, 'SUBSCRIBE k', 'subscribe');
  await ask(client, 'SUBSCRIBE z', 'subscribe');
  t.is(await ask(client, 'UNSUBSCRIBE k', 'unsubscribe'), '0');
  await writeJob(server.dir, 'b.job', 'WRITE [(k,2)]\nWRITE [(z,2)]\n');
  await client.waitForOutput('(z,2)');
  t.false(client.stdout.includes('(k,2)'));
});

test('--compat=course answers SUBSCRIBE with 1 for subscribed and 0 for a missing key', async (t) => {
  const server = await startServer(t, { compat: 'course', jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const client = await startClient(t, server.fifo, { compat: 'course' });
  t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '1');
  t.is(await ask(client, 'SUBSCRIBE missing', 'subscribe'), '0');
  t.is(await ask(client, 'UNSUBSCRIBE k', 'unsubscribe'), '0');
});

test('end of input disconnects, prints the response and exits 0 after DELAY', async (t) => {
  const server = await startServer(t, { compat: 'course', jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const client = await startClient(t, server.fifo, { compat: 'course', input: '# a comment\n\nSUBSCRIBE [k]\nDELAY 10\nBOGUS\nBOGUSé\u001b\n' });
  client.end();
  t.is(await client.waitForExit(), 0);
  t.deepEqual(client.lines(), [
    'Server returned 0 for operation: connect',
    'Server returned 1 for operation: subscribe',
    'Waiting...',
    'Server returned 0 for operation: disconnect',
  ]);
  t.regex(client.stderr, /line 5: unknown command 'BOGUS'/);
  // What was typed comes back as typed (UTF-8), with control characters escaped.
  t.regex(client.stderr, /line 6: unknown command 'BOGUSé\\x1b'/);
  t.false(client.stderr.includes('\u001b'));
});

test('client --help prints the usage and the commands on stdout and exits 0', (t) => {
  const run = spawnSync(process.execPath, [CLIENT, '--help'], { encoding: 'utf8' });
  t.is(run.status, 0);
  t.regex(run.stdout, /^Usage: node runtime\/client\.js <client_id> <register_fifo>/);
  t.regex(run.stdout, /SUBSCRIBE <key>/);
  t.is(run.stderr, '');
});

for (const [args, reason] of [
  [[], 'missing <client_id>'],
  [['c1'], 'missing <register_fifo>'],
  [['c1', 'fifo', 'extra'], 'too many arguments: extra'],
  [['c1', 'fifo', '--compat=nope'], "--compat must be seed or course, not 'nope'"],
  [['c1', 'fifo', '--bogus'], "unknown option '--bogus'"],
  [['c1', 'fifo', '--compat'], '--compat needs a value: --compat=seed|course'],
  [['c1', 'fifo', '--help=yes'], '--help takes no value'],
] as const) {
  test(`client ${JSON.stringify(args)} is refused with '${reason}', a pointer to --help, and exit 2`, (t) => {
    const run = spawnSync(process.execPath, [CLIENT, ...args], { encoding: 'utf8' });
    t.is(run.status, 2);
    // The reason in the program's own words, then one line pointing at --help (not the usage).
    t.is(run.stderr, `kvs-client: ${reason}\nrun 'node runtime/client.js --help' for the usage\n`);
    t.is(run.stdout, '');
  });
}

test('an id that makes a FIFO path longer than 40 bytes is refused with a clear error', async (t) => {
  const server = await startServer(t);
  const client = await startClient(t, server.fifo, { id: 'x'.repeat(31), awaitConnect: false });
  t.is(await client.waitForExit(), 2);
  t.regex(client.stderr, /too long/);
});

test('a client exits 1 when no server reads the registration FIFO', async (t) => {
  const server = await startServer(t);
  await server.stop();
  const client = await startClient(t, server.fifo, { awaitConnect: false });
  t.is(await client.waitForExit(), 1);
  for (const path of clientFifos(client.id)) t.false(existsSync(path));
});

test('a stale FIFO left by a killed client is replaced', async (t) => {
  const server = await startServer(t);
  const first = await startClient(t, server.fifo);
  first.child.kill('SIGKILL');
  await first.exited;
  t.true(existsSync(`/tmp/req${first.id}`));
  const second = await startClient(t, server.fifo, { id: first.id });
  t.is(await ask(second, 'SUBSCRIBE nothing', 'subscribe'), '1');
  await waitUntil('both clients gone', () => !first.alive);
});
