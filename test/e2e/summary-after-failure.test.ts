/**
 * The run's summary when the store is lost mid-run (Redis killed under a real batch run): the
 * commands the failed job had applied are counted, not shown as 0, and the backup it wrote counts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { readBytes, startKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { waitUntilSeen } from '../helpers/processes.js';
import { startRedis, rawRedis } from '../helpers/redis-server.js';

test('after Redis is lost mid-run the summary counts the commands the failed job applied, and its backup', async (t) => {
  const redis = await startRedis(t);
  const steps = 2000;
  const lines = ['WRITE [(k,0)]', 'BACKUP'];
  for (let i = 1; i <= steps; i++) lines.push(`WRITE [(k,${i})]`, 'READ [k]', 'WAIT 5');
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': `${lines.join('\n')}\n` });
  const run = startKvs(t, [dir, '1', '1', '--store', redis.url]);
  const client = await rawRedis(t, redis);
  await waitUntilSeen('the backup written and 20 writes applied', async () => {
    const value = await client.hget('{kvs}:data', 'k').catch(() => null);
    const backup = existsSync(join(dir, 'a-1.bck'));
    return { ok: backup && Number(value) >= 20, seen: `k = ${value}, a-1.bck ${backup ? 'written' : 'not yet'}` };
  });
  await redis.kill();
  const result = await run.result;
  t.is(result.code, 1, result.stderr);
  const summary = /^kvs: 1 file \(1 failed\), ([\d,]+) commands \(([\d,]+) of them applied by the job that failed\), 0 invalid lines, 1 backup in [\d.]+ s$/.exec(result.summary ?? '');
  t.log(result.summary);
  t.not(summary, null, `the summary: ${result.summary}`);
  const [total, applied] = [Number(summary![1]!.replace(/,/g, '')), Number(summary![2]!.replace(/,/g, ''))];
  t.is(total, applied);
  // Every READ answered in the .out was applied, with its WRITE, after the first WRITE and the BACKUP.
  const answered = (readBytes(join(dir, 'a.out')) ?? '').split('\n').filter((line) => line.startsWith('[(k,')).length;
  t.true(answered >= 19, `${answered} READs answered`);
  t.true(applied >= 2 + 2 * answered, `${applied} applied, ${answered} READs answered`);
  t.true(applied <= 2 + 2 * steps, `${applied} applied`);
});
