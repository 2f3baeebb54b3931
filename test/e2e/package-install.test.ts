/**
 * The package as a user gets it: `npm pack`'s tarball, installed into an empty folder, gives
 * working `kvs` and `kvs-client` commands, which call themselves so in their usage and hints. Offline: `npm install <tgz>` in an empty folder would ask
 * the registry for each dependency's metadata, which `npm ci` does not keep in npm's cache; so the
 * folder gets a lockfile naming the tarball and the project's own locked production dependencies,
 * whose tarballs `npm ci` left in the cache, and `npm ci --offline` installs it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { removeFileSync } from '../../runtime/os/fifo.js';
import { Proc, clientFifos, tempDir, uniqueId, waitUntilSeen } from '../helpers/processes.js';
import { PROJECT_ROOT, runCommand } from '../helpers/program-run.js';

interface Manifest {
  name: string;
  version: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
}
interface LockEntry {
  dev?: boolean;
}

const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as Manifest;

/** Packs the checkout (dist/ as built) and installs the tarball into an empty folder; returns the folder's .bin. */
async function packAndInstall(t: import('ava').ExecutionContext): Promise<{ bin: string; files: string[] }> {
  const packs = tempDir(t, 'kvs-pack-');
  // --ignore-scripts: the tests run on the dist/ already built (`prepare` would rebuild it under
  // the other test files' feet); a user's `npm pack` builds it first.
  const pack = await runCommand('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packs]);
  t.is(pack.code, 0, pack.stderr);
  const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = `file:${join(packs, packed!.filename)}`;

  const home = tempDir(t, 'kvs-install-');
  const locked = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const production = Object.fromEntries(Object.entries(locked).filter(([path, entry]) => path !== '' && entry.dev !== true));
  const { name, version, license, bin, engines, dependencies } = manifest;
  writeFileSync(join(home, 'package.json'), JSON.stringify({ dependencies: { [name]: tarball }, allowScripts: manifest.allowScripts }));
  writeFileSync(
    join(home, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { dependencies: { [name]: tarball } },
        [`node_modules/${name}`]: { version, resolved: tarball, license, dependencies, bin, engines },
        ...production,
      },
    }),
  );
  const install = await runCommand('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: home, deadlineMs: 300_000 });
  t.is(install.code, 0, `npm ci --offline: ${install.stderr}`);
  return { bin: join(home, 'node_modules', '.bin'), files: packed!.files.map((file) => file.path) };
}

test('the packed tarball installs into an empty folder, and kvs and kvs-client run a batch and a session', async (t) => {
  const { bin, files } = await packAndInstall(t);
  t.true(files.includes('LICENSE') && files.includes('dist/runtime/main.js') && files.includes('dist/runtime/batch/job-worker.js'), files.join(' '));
  t.false(files.some((file) => file.startsWith('dist/test/') || file.endsWith('.map')), 'no tests or source maps shipped');

  for (const command of ['kvs', 'kvs-client']) {
    const run = await runCommand(join(bin, command), ['--version']);
    t.is(run.stdout, `${manifest.name} ${manifest.version}\n`, `${command} --version: ${run.stderr}`);
  }

  // The usage and the hints name the commands as the user typed them.
  const help = await runCommand(join(bin, 'kvs'), ['--help']);
  t.regex(help.stdout, /^Usage:\n {2}kvs <jobs_dir> <max_backups> <max_threads> /);
  const wrong = await runCommand(join(bin, 'kvs'), ['2', '4', 'jobs']);
  t.is(wrong.stderr, "kvs: the jobs folder comes first: kvs jobs 2 4 (not 'jobs' after the counts)\nkvs: run 'kvs --help' for the usage\n");
  const bare = await runCommand(join(bin, 'kvs-client'), []);
  t.is(bare.stderr, "kvs-client: missing <client_id>\nrun 'kvs-client --help' for the usage\n");

  const dir = tempDir(t);
  const jobs = join(dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(join(jobs, 'a.job'), 'WRITE [(k,1)(b,2)]\nREAD [k,z]\nBACKUP\n');
  const batch = await runCommand(join(bin, 'kvs'), [jobs, '1', '2', '--quiet']);
  t.is(batch.code, 0, batch.stderr);
  t.is(readFileSync(join(jobs, 'a.out'), 'utf8'), '[(k,1)(z,KVSERROR)]\n');
  t.is(readFileSync(join(jobs, 'a-1.bck'), 'utf8'), '(b,2)\n(k,1)\n');

  const fifo = join(dir, 'register_fifo');
  const server = new Proc(spawn(join(bin, 'kvs'), [jobs, '2', '1', fifo], { stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(() => server.stop());
  await waitUntilSeen('the installed server to serve clients', () => ({ ok: server.stderr.includes('serving clients on'), seen: server.stderr }));
  const id = uniqueId();
  t.teardown(() => clientFifos(id).forEach((path) => removeFileSync(path)));
  const client = new Proc(spawn(join(bin, 'kvs-client'), [id, fifo], { stdio: ['pipe', 'pipe', 'pipe'] }));
  client.child.stdin!.end('SUBSCRIBE k\nDISCONNECT\n');
  t.is(await client.waitForExit(), 0, client.stderr);
  t.deepEqual(client.lines(), ['Server returned 0 for operation: connect', 'Server returned 0 for operation: subscribe', 'Server returned 0 for operation: disconnect']);
  await server.stop();
  t.false(existsSync(fifo), 'the server removed its FIFO');
});
