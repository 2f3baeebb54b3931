/**
 * Which compiled files a start loads (runtime/cli/program-files.ts): the bundle while it is
 * current, tsc's files once one it holds is newer or gone; and, through the real program, that the
 * program loads what that says.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleIsCurrent, programFile } from '../../../runtime/cli/program-files.js';
import { MAIN, PROJECT_ROOT, tempDir } from '../../helpers/fixtures.js';

/** A project folder with one compiled file and a bundle made from it; `age` sets their times. */
function project(t: Parameters<typeof tempDir>[0], inputSeconds: number, bundleSeconds: number): { root: URL; dir: string } {
  const dir = tempDir(t, 'kvs-bundle-');
  mkdirSync(join(dir, 'dist', 'runtime'), { recursive: true });
  mkdirSync(join(dir, 'dist', 'bundle', 'runtime'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'runtime', 'main.js'), 'export {};\n');
  writeFileSync(join(dir, 'dist', 'bundle', 'runtime', 'inputs.json'), `${JSON.stringify({ inputs: ['dist/runtime/main.js'] })}\n`);
  utimesSync(join(dir, 'dist', 'runtime', 'main.js'), inputSeconds, inputSeconds);
  utimesSync(join(dir, 'dist', 'bundle', 'runtime', 'inputs.json'), bundleSeconds, bundleSeconds);
  return { root: pathToFileURL(`${dir}/`), dir };
}

test('the bundle runs while none of the files it was made from is newer', (t) => {
  const { root } = project(t, 1_000_000, 1_000_100);
  t.true(bundleIsCurrent(root));
  t.is(programFile('main', root), new URL('dist/bundle/runtime/main.js', root).href);
  t.is(programFile('client', root), new URL('dist/bundle/runtime/client.js', root).href);
});

test("tsc's files run once one the bundle holds is newer (a tsc run alone), gone, or there is no bundle", (t) => {
  const newer = project(t, 1_000_100, 1_000_000);
  t.false(bundleIsCurrent(newer.root));
  t.is(programFile('main', newer.root), new URL('dist/runtime/main.js', newer.root).href);
  t.is(programFile('client', newer.root), new URL('dist/runtime/client/client.js', newer.root).href);
  const gone = project(t, 1_000_000, 1_000_100);
  rmSync(join(gone.dir, 'dist', 'runtime', 'main.js'));
  t.false(bundleIsCurrent(gone.root));
  const none = project(t, 1_000_000, 1_000_100);
  rmSync(join(none.dir, 'dist', 'bundle'), { recursive: true });
  t.false(bundleIsCurrent(none.root));
});

/** Lists on stderr every module file the main thread loads (a module hook, from outside the program). */
const TRACE_LOADS = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent('export async function load(url, context, next) { if (url.startsWith("file:")) process.stderr.write("loaded " + url + "\\\\n"); return next(url, context); }'));`,
)}`;

test('the program loads its code from where programFile says (the bundle after npm run build, tsc files after tsc alone)', (t) => {
  const dir = tempDir(t, 'kvs-bundle-run-');
  writeFileSync(join(dir, 'a.job'), 'WRITE [(k,1)]\n');
  const run = spawnSync(process.execPath, ['--import', TRACE_LOADS, MAIN, dir, '2', '1', '--quiet'], { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 120_000 });
  t.is(run.status, 0, run.stderr);
  const loaded = run.stderr.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice('loaded '.length));
  const expected = programFile('main');
  t.true(loaded.includes(expected), `${expected} among:\n${loaded.join('\n')}`);
  // Nothing of the other kind: a bundled run loads no compiled module of the program but the start's own three.
  const dist = new URL('dist/', pathToFileURL(PROJECT_ROOT)).href;
  const bundle = new URL('bundle/', dist).href;
  const start = ['cli/compile-cache.js', 'cli/heap.js', 'cli/program-files.js'].map((file) => new URL(`runtime/${file}`, dist).href);
  const ours = loaded.filter((url) => url.startsWith(dist));
  const other = expected.startsWith(bundle) ? ours.filter((url) => !url.startsWith(bundle) && !start.includes(url)) : ours.filter((url) => url.startsWith(bundle));
  t.deepEqual(other, []);
});
