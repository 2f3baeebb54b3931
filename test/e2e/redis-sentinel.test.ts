/**
 * `--store redis-sentinel://...`: a host asks real Sentinels (three `redis-server --sentinel`
 * processes watching a primary and two replicas on loopback) for the primary, runs its jobs there,
 * and a host started after a failover finds the new primary and the data; bad URLs and Sentinels
 * that cannot be reached. A host living through a failover: redis-failover.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { jobsDir, runKvs, stderrLines } from '../helpers/batch.js';
import { failOver, startSentinels } from '../helpers/redis-sentinel.js';

const DATA = '{kvs}:data';

test.serial('a batch run finds the primary through the Sentinels, and a run after a failover finds the new primary and the data', async (t) => {
  const setup = await startSentinels(t);
  const first = jobsDir(t, { 'a.job': 'WRITE [(k1,one)(k2,two)]\nREAD [k1,k2]\n' });
  const run = await runKvs(t, [first, '1', '1', '--store', setup.url]);
  t.is(run.code, 0, run.stderr);
  t.is(readFileSync(join(first, 'a.out'), 'latin1'), '[(k1,one)(k2,two)]\n');

  const oldPrimary = await setup.primaryPort();
  const primary = await setup.connect(oldPrimary);
  t.is(await primary.hget(DATA, 'k1'), 'one', 'the data is on the primary the Sentinels named');
  // Both replicas have it before the primary dies, so the promoted one holds it.
  t.is(await primary.call('WAIT', '2', '10000'), 2);
  primary.disconnect();

  const newPrimary = await failOver(setup);
  t.not(newPrimary, oldPrimary);
  // The BACKUP's child reads its copy through the Sentinels too, from the promoted primary.
  const second = jobsDir(t, { 'b.job': 'READ [k1,k2]\nWRITE [(k3,three)]\nSHOW\nBACKUP\n' });
  const after = await runKvs(t, [second, '1', '1', '--store', setup.url]);
  t.is(after.code, 0, `${after.stderr}\n${setup.output().slice(-3000)}`);
  t.is(readFileSync(join(second, 'b.out'), 'latin1'), '[(k1,one)(k2,two)]\n(k1,one)\n(k2,two)\n(k3,three)\n');
  t.is(readFileSync(join(second, 'b-1.bck'), 'latin1'), '(k1,one)\n(k2,two)\n(k3,three)\n');
  const promoted = await setup.connect(newPrimary);
  t.is(await promoted.hget(DATA, 'k3'), 'three', 'the second run wrote to the promoted primary');
});

test('Sentinels that cannot be reached are said in one line, exit 1, nothing written', async (t) => {
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
  // Port 1 on loopback: nothing listens there (connection refused at once).
  const result = await runKvs(t, [dir, '1', '1', '--store', 'redis-sentinel://127.0.0.1:1,127.0.0.1:2/kvsprimary']);
  t.is(result.code, 1, result.stderr);
  const said = stderrLines(result);
  t.is(said.length, 1, result.stderr);
  t.regex(said[0]!, /^kvs: redis store redis-sentinel:\/\/127\.0\.0\.1:1,127\.0\.0\.1:2\/kvsprimary: cannot connect: /);
});

for (const [what, url, reason] of [
  ['no master name', 'redis-sentinel://127.0.0.1:26379', /give the master name/],
  ['an empty Sentinel in the list', 'redis-sentinel://127.0.0.1:26379,/m', /a Sentinel address is missing/],
  ['a port out of range', 'redis-sentinel://127.0.0.1:70000/m', /port 70000 is out of range/],
  ['an unknown parameter', 'redis-sentinel://127.0.0.1:26379/m?dbx=1', /the parameters are db, replicas and failover-ms/],
  ['a parameter given twice', 'redis-sentinel://127.0.0.1:26379/m?replicas=1&replicas=2', /each at most once/],
  ['a replica count that is not a number', 'redis-sentinel://127.0.0.1:26379/m?replicas=one', /replicas 'one' is not a number/],
  ['a failover deadline too short', 'redis-sentinel://127.0.0.1:26379/m?failover-ms=5', /failover-ms 5 is too short/],
  ['a database that is not a number', 'redis-sentinel://127.0.0.1:26379/m?db=x', /database 'x' is not a number/],
  ['a fragment', 'redis-sentinel://127.0.0.1:26379/m#x', /fragment/],
] as const) {
  test(`a Sentinel URL with ${what} is a bad argument (exit 2), its password never repeated`, async (t) => {
    const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
    const withPassword = url.replace('redis-sentinel://', 'redis-sentinel://me:s3cret@');
    const result = await runKvs(t, [dir, '1', '1', '--store', withPassword]);
    t.is(result.code, 2, result.stderr);
    t.regex(stderrLines(result)[0] ?? '', reason);
    t.regex(stderrLines(result)[0] ?? '', /redis-sentinel:\/\/\[user:password@\]host:port/);
    t.false(result.stderr.includes('s3cret'), result.stderr);
  });
}
