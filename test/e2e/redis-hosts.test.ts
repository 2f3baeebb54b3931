/**
 * Many hosts, one store: two kvs servers (two folders, two registration FIFOs) on one real
 * redis-server. Each host feeds its own clients from the change channel, so a client of one host
 * hears of jobs run by the other, every client hears the changes in the one order Redis applied
 * them, and SUBSCRIBE asks Redis whether the key exists. Redis gone: the server exits 1.
 */
import test from 'ava';
import { startClient, startServer, waitUntilSeen, writeJob } from '../helpers/processes.js';
import { startRedis } from '../helpers/redis-server.js';

test('a client of host A is notified of a job dropped into host B\'s folder', async (t) => {
  const redis = await startRedis(t);
  const a = await startServer(t, { args: ['--store', redis.url], jobs: { 'init.job': 'WRITE [(k,0)]\n' } });
  const b = await startServer(t, { args: ['--store', redis.url] });
  const client = await startClient(t, a.fifo);
  client.send('SUBSCRIBE k');
  await client.waitForOutput('Server returned 0 for operation: subscribe');
  await writeJob(b.dir, 'b.job', 'WRITE [(k,fromB)(other,1)]\nDELETE [k]\n');
  await client.waitForOutput('(k,DELETED)');
  t.deepEqual(client.lines().slice(-2), ['(k,fromB)', '(k,DELETED)']);
});

test('SUBSCRIBE on host B finds a key only host A wrote, and misses one nobody wrote', async (t) => {
  const redis = await startRedis(t);
  await startServer(t, { args: ['--store', redis.url], jobs: { 'init.job': 'WRITE [(onlyA,1)]\n' } });
  const b = await startServer(t, { args: ['--store', redis.url] });
  const client = await startClient(t, b.fifo);
  client.send('SUBSCRIBE onlyA');
  client.send('SUBSCRIBE nobody');
  await waitUntilSeen('both SUBSCRIBE answers', () => ({ ok: client.lines().filter((l) => l.includes('subscribe')).length === 2, seen: client.stdout }));
  t.deepEqual(client.lines().filter((l) => l.includes('subscribe')), [
    'Server returned 0 for operation: subscribe',
    'Server returned 1 for operation: subscribe',
  ]);
});

test('clients of both hosts see the changes of jobs on both hosts in the same order', async (t) => {
  const redis = await startRedis(t);
  const a = await startServer(t, { args: ['--store', redis.url], jobs: { 'init.job': 'WRITE [(k,0)]\n' } });
  const b = await startServer(t, { args: ['--store', redis.url] });
  const ca = await startClient(t, a.fifo);
  const cb = await startClient(t, b.fifo);
  for (const c of [ca, cb]) {
    c.send('SUBSCRIBE k');
    await c.waitForOutput('Server returned 0 for operation: subscribe');
  }
  const writes = 300;
  const job = (tag: string) => Array.from({ length: writes }, (_, i) => `WRITE [(k,${tag}${i})]${i % 10 === 9 ? '\nWAIT 1' : ''}`).join('\n') + '\n';
  await Promise.all([writeJob(a.dir, 'a.job', job('a')), writeJob(b.dir, 'b.job', job('b'))]);
  const heard = (c: typeof ca) => c.lines().filter((l) => l.startsWith('(k,'));
  for (const c of [ca, cb]) {
    await waitUntilSeen(`${2 * writes} notifications on client ${c.id}`, () => ({ ok: heard(c).length >= 2 * writes, seen: `${heard(c).length} so far` }));
  }
  t.deepEqual(heard(ca), heard(cb), 'one order for every host');
  // Each job's own changes in its own order, and the two jobs' changes interleaved somehow.
  for (const tag of ['a', 'b']) {
    t.deepEqual(
      heard(ca).filter((l) => l.startsWith(`(k,${tag}`)),
      Array.from({ length: writes }, (_, i) => `(k,${tag}${i})`),
    );
  }
});

test('Redis gone under a server: one line naming the store, the server exits 1 and its clients see it go', async (t) => {
  const redis = await startRedis(t);
  const a = await startServer(t, { args: ['--store', redis.url], jobs: { 'init.job': 'WRITE [(k,0)]\n' } });
  const client = await startClient(t, a.fifo);
  client.send('SUBSCRIBE k');
  await client.waitForOutput('Server returned 0 for operation: subscribe');
  await redis.kill();
  t.is(await a.waitForExit(), 1);
  t.regex(a.stderr, /kvs: redis store redis\+unix:\/\/\S+: connection.* lost.*: stopping: the jobs under way fail, no more jobs or clients are taken\n/);
  t.not(await client.waitForExit(), 0, 'the client sees the server go');
});
