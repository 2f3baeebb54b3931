/**
 * Job files with odd names: control characters (which must not reach the terminal raw) and bytes
 * that are not UTF-8 (which Node cannot open by a decoded name). Real program runs.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBytes, runKvs, tempDir, writeFiles } from '../helpers/batch.js';
import { startServer, waitUntilSeen } from '../helpers/processes.js';

test('a job whose name holds an escape and a newline has its bad lines reported on one line each, escaped', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { '\u001b[31mred\nx.job': 'SHOW\nBAD\n' });
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.code, 0, result.stderr);
  t.false(result.stderr.includes('\u001b'), 'no escape character reaches stderr');
  t.is(result.stderr, `${dir}/\\x1b[31mred\\x0ax.job:2: unknown command 'BAD'\n`);
});

test('a job whose name is not UTF-8 fails saying so, not as a missing file, and the other jobs complete', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'b.job': 'WRITE [(b,2)]\nREAD [b]\n' });
  // caf\xe9.job: Latin-1, as an old system or an archive may name it.
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.of(0xe9), Buffer.from('.job')]), 'WRITE [(a,1)]\n');
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.code, 1, result.stderr);
  t.notRegex(result.stderr, /ENOENT|no such file/);
  t.regex(Buffer.from(result.stderr, 'latin1').toString('utf8'), /^kvs: job .*caf\uFFFD\.job failed: its name is not valid UTF-8, so it cannot be opened by name: rename it$/m);
  t.is(readBytes(join(dir, 'b.out')), '[(b,2)]\n');
});

test('a job file whose name is not UTF-8, put into a served folder, is said to be unrunnable, once', async (t) => {
  // Its first job done, the server watches the folder: the file below comes to the watch, not to the listing at start.
  const server = await startServer(t, { sessions: 1, jobs: { 'a.job': 'WRITE [(a,1)]\n' } });
  writeFileSync(Buffer.concat([Buffer.from(`${server.dir}/caf`), Buffer.of(0xe9), Buffer.from('.job')]), 'WRITE [(a,1)]\n');
  const line = 'caf\uFFFD.job cannot be run: its name is not valid UTF-8, so it cannot be opened by name: rename it\n';
  await waitUntilSeen('the job said to be unrunnable', () => ({ ok: server.stderr.includes(line), seen: `stderr ${JSON.stringify(server.stderr)}` }));
  writeFileSync(join(server.dir, 'b.job'), 'WRITE [(b,1)]\n');
  await waitUntilSeen('b.job run', () => ({ ok: server.stderr.includes('b.job done'), seen: `stderr ${JSON.stringify(server.stderr)}` }));
  t.is(server.stderr.split(line).length - 1, 1);
});
