/**
 * Through a failover: real Sentinels, a primary and two replicas (test/helpers/redis-sentinel.ts).
 * The primary is killed (SIGKILL) while host A runs a job writing a counter 1..N, each value read
 * back, and a client of host B is subscribed to the counter. What must hold: A's run exits 0 with
 * its .out whole, the new primary holds N, the client heard every value once and in order, and
 * both hosts go on. The kill comes at several points of the job; a BACKUP's copy survives it too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { jobsDir, runKvs, startKvs, waitFor } from '../helpers/batch.js';
import { type ClientFixture, type ServerFixture, startClient, startServer, waitUntilSeen, writeJob } from '../helpers/processes.js';
import { failOver, startSentinels, type SentinelSetup } from '../helpers/redis-sentinel.js';

const DATA = '{kvs}:data';
const N = 120;

/** WRITE c=i, READ it back, and a short WAIT so the job spans the failover; a BACKUP every `backupEvery`. */
function counterJob(backupEvery = 0): { job: string; out: string; backups: string[] } {
  let job = '';
  let out = '';
  const backups: string[] = [];
  for (let i = 1; i <= N; i++) {
    job += `WRITE [(c,${i})]\nREAD [c]\nWAIT 15\n`;
    out += `[(c,${i})]\nWaiting...\n`;
    if (backupEvery > 0 && i % backupEvery === 0) {
      job += 'BACKUP\n';
      backups.push(`(c,${i})\n`);
    }
  }
  return { job, out, backups };
}

/** Host B: a server on the store, with a client subscribed to the counter `c` (0 to begin with). */
async function hostWithSubscriber(t: ExecutionContext, url: string): Promise<{ b: ServerFixture; client: ClientFixture }> {
  const b = await startServer(t, { args: ['--store', url], jobs: { 'init.job': 'WRITE [(c,0)]\n' } });
  const client = await startClient(t, b.fifo);
  client.send('SUBSCRIBE c');
  await client.waitForOutput('Server returned 0 for operation: subscribe');
  return { b, client };
}

/** The client heard c = 1..N, each once, in order (and nothing else of c). */
async function heardEveryValueOnce(t: ExecutionContext, client: ClientFixture, b: ServerFixture): Promise<void> {
  const heard = () => client.lines().filter((line) => line.startsWith('(c,'));
  await waitUntilSeen(`${N} notifications`, () => ({ ok: heard().length >= N, seen: `${heard().length}: ${heard().slice(-5).join(' ')}; server stderr ${b.stderr}` }), 60_000);
  // Anything heard twice comes after the N-th: give it the time a notification takes.
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.deepEqual(heard(), Array.from({ length: N }, (_, i) => `(c,${i + 1})`));
}

/** A counter's value on the node the Sentinels name as primary now (0 before it exists). */
async function counterOnPrimary(setup: SentinelSetup, key = 'c'): Promise<number> {
  const client = await setup.connect(await setup.primaryPort());
  try {
    return Number((await client.hget(DATA, key)) ?? 0);
  } finally {
    client.disconnect();
  }
}

for (const [when, killAt, backupEvery] of [
  ['early in the job', 10, 0],
  ['half way', N / 2, 0],
  ['near the end, with BACKUPs under way', N - 20, 10],
] as const) {
  test.serial(`the primary killed ${when}: the run exits 0 with its .out whole, the new primary holds N, a client of another host hears every value once, in order`, async (t) => {
    const setup = await startSentinels(t);
    const url = `${setup.url}?failover-ms=30000`;
    const { b, client } = await hostWithSubscriber(t, url);
    const { job, out, backups } = counterJob(backupEvery);
    const dir = jobsDir(t, { 'count.job': job });
    const a = startKvs(t, [dir, '2', '1', '--store', url]);
    let seen = 0;
    await waitFor(() => (seen >= killAt ? true : (void counterOnPrimary(setup).then((v) => (seen = v), () => undefined), undefined)), `the counter to reach ${killAt} on the primary`, 120_000, 20);
    const oldPrimary = await setup.primaryPort();
    const newPrimary = await failOver(setup);
    t.not(newPrimary, oldPrimary);

    const result = await a.result;
    t.is(result.code, 0, `${result.stderr}\n--- redis:\n${setup.output().slice(-3000)}`);
    t.log(result.stderr.split('\n').filter((line) => line.includes('redis store')).join('\n'));
    // The run says what it lived through, in words.
    t.regex(result.stderr, /kvs: redis store redis-sentinel:\S+: the primary stopped answering \(.*\); asking the Sentinels for the new one, for up to 30 s\n/);
    t.regex(result.stderr, new RegExp(`kvs: redis store redis-sentinel:\\S+: the primary at 127\\.0\\.0\\.1:${newPrimary} took over after [\\d.]+ s; batches under way: \\d+ found applied there, \\d+ sent again\\n`));
    t.is(readFileSync(join(dir, 'count.out'), 'latin1'), out);
    for (const [i, text] of backups.entries()) t.is(readFileSync(join(dir, `count-${i + 1}.bck`), 'latin1'), text, `count-${i + 1}.bck`);
    t.is(await counterOnPrimary(setup), N);

    await heardEveryValueOnce(t, client, b);

    // Both hosts go on: B takes a job and its client hears it; A runs again on the new primary.
    await writeJob(b.dir, 'after.job', 'WRITE [(c,after)]\n');
    await client.waitForOutput('(c,after)');
    const again = await runKvs(t, [jobsDir(t, { 'r.job': 'READ [c]\n' }), '1', '1', '--store', url]);
    t.is(again.code, 0, again.stderr);
    t.true(b.alive, b.stderr);
  });
}

test.serial('a failover that does not finish within failover-ms fails the run, naming the store', async (t) => {
  const setup = await startSentinels(t);
  const url = `${setup.url}?failover-ms=1500`;
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\nWAIT 2500\nWRITE [(k,2)]\n' });
  const a = startKvs(t, [dir, '1', '1', '--store', url]);
  let applied = 0;
  await waitFor(() => (applied === 1 ? true : (void counterOnPrimary(setup, 'k').then((v) => (applied = v), () => undefined), undefined)), 'the first batch on the primary', 60_000, 20);
  // Every data node gone: no Sentinel can promote anything.
  await Promise.all(setup.nodes.map((node) => node.kill()));
  const result = await a.result;
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /redis store redis-sentinel:\/\/127\.0\.0\.1:\d+.*\/kvsprimary\?failover-ms=1500: the primary was lost and no new primary took over within failover-ms \(1500 ms\): cannot connect: /);
});

test.serial('the replica the change feed reads from is killed: the feed reads on from another node where it left off, nothing missed or heard twice', async (t) => {
  const setup = await startSentinels(t);
  const url = `${setup.url}?failover-ms=30000`;
  const { b, client } = await hostWithSubscriber(t, url);
  // The replica B's feed reads from: the one whose client list holds the feed's connection.
  const primary = await setup.primaryPort();
  let feedNode: number | null = null;
  for (const node of setup.nodes.filter((n) => n.port !== primary)) {
    const c = await setup.connect(node.port);
    if (String(await c.call('CLIENT', 'LIST')).includes('name=ist-kvs-changes')) feedNode = node.port;
    c.disconnect();
  }
  t.not(feedNode, null, 'the change feed reads from a replica');

  const { job, out } = counterJob();
  const dir = jobsDir(t, { 'count.job': job });
  const a = startKvs(t, [dir, '2', '1', '--store', url]);
  let seen = 0;
  await waitFor(() => (seen >= N / 2 ? true : (void counterOnPrimary(setup).then((v) => (seen = v), () => undefined), undefined)), 'the counter half way', 120_000, 20);
  await setup.nodes.find((node) => node.port === feedNode)!.kill();

  const result = await a.result;
  t.is(result.code, 0, result.stderr);
  t.is(readFileSync(join(dir, 'count.out'), 'latin1'), out);
  await heardEveryValueOnce(t, client, b);
  t.regex(b.stderr, /the change stream is read again at 127\.0\.0\.1:\d+ after [\d.]+ s, from where it was left\n/);
});

/**
 * The two ways a batch can be under way when the primary dies, each made certain by stopping
 * processes (SIGSTOP) at the right moment: applied and replicated but not yet confirmed (the
 * replicas stopped, so the primary's WAIT waits: their kernels still take the replication
 * stream), or sent and never applied (the primary stopped). The first is found in the run's
 * record on the new primary and not applied again; the second is sent again.
 */
for (const [what, stop, expected] of [
  ['applied and replicated, not yet confirmed, is taken from the record, not applied again', 'replicas', /batches under way: [1-9]\d* found applied there, 0 sent again/],
  ['sent and never applied is sent again', 'primary', /batches under way: 0 found applied there, [1-9]\d* sent again/],
] as const) {
  test.serial(`a batch ${what}`, async (t) => {
    const setup = await startSentinels(t);
    const url = `${setup.url}?failover-ms=30000`;
    // A batch applied twice would be heard twice.
    const { b, client } = await hostWithSubscriber(t, url);
    const { job, out } = counterJob();
    const dir = jobsDir(t, { 'count.job': job });
    const a = startKvs(t, [dir, '1', '1', '--store', url]);
    let seen = 0;
    await waitFor(() => (seen >= 20 ? true : (void counterOnPrimary(setup).then((v) => (seen = v), () => undefined), undefined)), 'the counter to reach 20', 120_000, 20);
    const primaryPort = await setup.primaryPort();
    const primary = setup.nodes.find((node) => node.port === primaryPort)!;
    const replicas = setup.nodes.filter((node) => node !== primary);
    const watcher = await setup.connect(primaryPort);
    const before = Number(await watcher.hget(DATA, 'c'));
    if (stop === 'replicas') {
      for (const node of replicas) node.child.kill('SIGSTOP');
      // The next batch is applied on the primary, and waits there for a replica's word.
      await waitFor(() => (seen > before ? true : (void watcher.hget(DATA, 'c').then((v) => (seen = Number(v)), () => undefined), undefined)), 'the next batch on the primary', 60_000, 5);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await primary.kill();
      for (const node of replicas) node.child.kill('SIGCONT');
    } else {
      primary.child.kill('SIGSTOP');
      // The job's next batch is sent within its WAIT of 15 ms, and is not applied.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await primary.kill();
    }
    watcher.disconnect();
    const result = await a.result;
    t.log(result.stderr.split('\n').filter((line) => line.includes('took over')).join('\n'));
    t.is(result.code, 0, `${result.stderr}\n--- redis:\n${setup.output().slice(-3000)}`);
    t.regex(result.stderr, expected);
    t.is(readFileSync(join(dir, 'count.out'), 'latin1'), out);
    t.is(await counterOnPrimary(setup), N);
    await heardEveryValueOnce(t, client, b);
  });
}

test.serial('a server stopped while its store waits for a new primary exits at once, not at the end of failover-ms', async (t) => {
  const setup = await startSentinels(t);
  const { b } = await hostWithSubscriber(t, `${setup.url}?failover-ms=60000`);
  await Promise.all(setup.nodes.map((node) => node.kill()));
  await waitUntilSeen('the server to say its primary stopped answering', () => ({ ok: b.stderr.includes('the primary stopped answering'), seen: b.stderr }));
  b.child.kill('SIGTERM');
  // Well under failover-ms (60 s); the teardown would SIGKILL it after 3 s more.
  await b.waitForExit(10_000);
  t.regex(b.stderr, /kvs: stopping \(SIGTERM\)/);
});
