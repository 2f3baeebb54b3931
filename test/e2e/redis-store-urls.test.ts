/**
 * `--store` URLs a user gets slightly wrong, against a real redis-server (Debian's, on a unix socket
 * in a temporary folder): each is refused with one line naming what is wrong, and nothing is
 * written anywhere, rather than the run going on against a keyspace the user did not name.
 */
import test from 'ava';
import { jobsDir, listDir, runKvs, stderrLines } from '../helpers/batch.js';
import { launchRedis, type RedisServer, rawRedis } from '../helpers/redis-server.js';

let shared: RedisServer;
test.before(async () => {
  shared = await launchRedis();
});
test.after.always(async () => {
  await shared?.stop();
});

/** Every key in every database of the shared Redis, as `db:key`. */
async function allKeys(t: { teardown(fn: () => unknown): void }): Promise<string[]> {
  const client = await rawRedis(t, shared);
  const keys: string[] = [];
  for (let db = 0; db < 16; db++) {
    await client.select(db);
    for (const key of await client.keys('*')) keys.push(`${db}:${key}`);
  }
  return keys;
}

test.serial('a database number past the server\'s databases is refused in one line, and nothing lands in database 0', async (t) => {
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\nREAD [k]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--store', `${shared.url}?db=16`]);
  t.is(result.code, 1, result.stderr);
  const said = stderrLines(result);
  t.is(said.length, 1, result.stderr);
  t.regex(said[0] ?? '', /database 16/);
  t.deepEqual(listDir(dir), ['a.job'], 'no job ran');
  t.deepEqual(await allKeys(t), [], 'no database holds a key');
});

test.serial('a database number no server has (99999) is refused the same way', async (t) => {
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--store', `${shared.url}?db=99999`]);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /database 99999/);
  t.deepEqual(await allKeys(t), []);
});

for (const [what, suffix] of [
  ['an unknown query parameter', '?db=3&dbx=4'],
  ['a misspelt db parameter', '?DB=3'],
  ['a fragment', '#3'],
  ['the db given twice', '?db=3&db=4'],
] as const) {
  test.serial(`a socket URL with ${what} is a bad argument, not silently read as another database`, async (t) => {
    const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
    const result = await runKvs(t, [dir, '1', '1', '--store', `${shared.url}${suffix}`]);
    t.is(result.code, 2, result.stderr);
    t.regex(stderrLines(result)[0] ?? '', /^kvs: store .*: /);
    t.deepEqual(await allKeys(t), [], 'nothing was written');
  });
}

for (const [what, url] of [
  ['a query', 'redis://127.0.0.1:1/3?timeout=5'],
  ['a fragment', 'redis://127.0.0.1:1/3#x'],
  ['a password with a bad %-escape', 'redis://:pa%zz@127.0.0.1:1'],
  ['a user name with a bad %-escape', 'redis://b%ob:pw@127.0.0.1:1'],
] as const) {
  test(`a redis:// URL with ${what} is a bad argument with its reason, exit 2`, async (t) => {
    const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
    const result = await runKvs(t, [dir, '1', '1', '--store', url]);
    t.is(result.code, 2, result.stderr);
    const first = stderrLines(result)[0] ?? '';
    t.regex(first, /^kvs: store /);
    t.false(first.includes('pa%zz'), 'the password is not repeated');
  });
}

for (const url of ['redis://:hunter2@127.0.0.1:99999', 'redis://user:hunter2@/0', 'rediss://:hunter2@127.0.0.1', 'http://:hunter2@127.0.0.1']) {
  test(`a --store URL that cannot be used is refused without repeating its password (${url.replace('hunter2', '…')})`, async (t) => {
    const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
    const result = await runKvs(t, [dir, '1', '1', '--store', url]);
    t.is(result.code, 2, result.stderr);
    t.false(result.stderr.includes('hunter2'), result.stderr);
    t.regex(stderrLines(result)[0] ?? '', /^kvs: (store |--store)/);
  });
}

test('a rediss:// (TLS) URL is refused with what to do instead', async (t) => {
  const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
  const result = await runKvs(t, [dir, '1', '1', '--store', 'rediss://127.0.0.1:6380']);
  t.is(result.code, 2, result.stderr);
  t.regex(stderrLines(result)[0] ?? '', /TLS/);
});
