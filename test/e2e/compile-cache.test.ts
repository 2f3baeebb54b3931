/**
 * Node's module compile cache (runtime/cli/compile-cache.ts), through the real program: where Node
 * has `module.enableCompileCache()` a run keeps its compiled modules in the user's cache folder and
 * its worker threads use them; a cache folder that cannot be made never changes a run.
 */
import test from 'ava';
import module from 'node:module';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeJobsDir, runProgram } from '../helpers/program-run.js';
import { tempDir } from '../helpers/fixtures.js';

const HAS_COMPILE_CACHE = typeof (module as unknown as { enableCompileCache?: unknown }).enableCompileCache === 'function';

/** This environment with the cache under `cacheHome`, and none of the variables that override it. */
function envWithCacheHome(cacheHome: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cacheHome, ...extra };
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  return env;
}

test(`the compiled modules go to $XDG_CACHE_HOME/ist-kvs/compile-cache (Node ${process.version}: ${HAS_COMPILE_CACHE ? 'has' : 'has no'} compile cache)`, async (t) => {
  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(k,1)]\nREAD [k]\n' });
  const cacheHome = tempDir(t, 'kvs-cache-');
  const folder = join(cacheHome, 'ist-kvs', 'compile-cache');
  const first = await runProgram([dir, '2', '4', '--quiet'], { env: envWithCacheHome(cacheHome) });
  t.is(first.code, 0, first.stderr);
  t.is(readFileSync(join(dir, 'a.out'), 'utf8'), '[(k,1)]\n');
  if (!HAS_COMPILE_CACHE) {
    t.false(existsSync(folder), 'no compile cache folder where Node has no compile cache');
    return;
  }
  // One sub-folder per Node version, holding one entry per module.
  const versions = readdirSync(folder);
  t.is(versions.length, 1, `${folder} holds ${versions.join(', ')}`);
  t.true(versions[0]!.startsWith(`${process.version}-`), versions[0]);
  t.true(readdirSync(join(folder, versions[0]!)).length > 10, 'an entry for each module loaded');
  // The second run reads them back, in the worker thread too (Node's own trace of its compile cache says so).
  const second = await runProgram([dir, '2', '4', '--quiet'], { env: envWithCacheHome(cacheHome, { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }) });
  t.is(second.code, 0, second.stderr);
  const accepted = second.stderr.split('\n').filter((line) => /was accepted/.test(line));
  t.true(accepted.some((line) => line.includes('/job-worker.js')), `the worker's module from the cache; accepted:\n${accepted.join('\n')}`);
  t.true(accepted.some((line) => /\/main\.js/.test(line)), `the main thread's modules from the cache; accepted:\n${accepted.join('\n')}`);
});

test('a compile cache folder that cannot be made changes nothing: same output, nothing said', async (t) => {
  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(k,1)]\nREAD [k]\n' });
  // A regular file where the cache's parent folder would be: not even root can make the folder.
  const notAFolder = join(tempDir(t, 'kvs-cache-'), 'file');
  writeFileSync(notAFolder, 'not a folder\n');
  const run = await runProgram([dir, '2', '4', '--quiet'], { env: envWithCacheHome(notAFolder) });
  t.is(run.code, 0, run.stderr);
  t.is(run.stderr, '');
  t.is(readFileSync(join(dir, 'a.out'), 'utf8'), '[(k,1)]\n');
  t.is(readFileSync(notAFolder, 'utf8'), 'not a folder\n');
});
