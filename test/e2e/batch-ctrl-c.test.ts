/**
 * Ctrl-C at a terminal: the terminal signals the whole foreground process group, not only the
 * program. The program is started here as the leader of its own group and SIGINT goes to the
 * group (`kill -INT -<pgid>`), as a terminal sends it. The backups in progress must finish, and no
 * backup child may outlive the program.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, PROJECT_ROOT, listDir, readBytes, tempDir, waitFor, writeFiles } from '../helpers/batch.js';
import { backupHooks } from '../helpers/backup-hooks.js';

const KEYS = 100_000;

/** The pids whose parent is `ppid`, from /proc. */
function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...: comm may hold blanks and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === ppid) pids.push(Number(name));
  }
  return pids;
}

/** Running, not gone and not a zombie (an orphan's zombie waits for whoever reaps it). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Starts a big job whose backups are under way, as the leader of its own process group. */
async function startBackingUp(t: ExecutionContext) {
  const dir = tempDir(t);
  const lines: string[] = [];
  const expected: string[] = [];
  for (let i = 0; i < KEYS; i += 500) {
    const pairs: string[] = [];
    for (let j = i; j < i + 500; j++) {
      const key = `k${String(j).padStart(6, '0')}`;
      pairs.push(`(${key},v${j})`);
      expected.push(`(${key},v${j})\n`);
    }
    lines.push(`WRITE [${pairs.join('')}]`);
  }
  // Two backups run at once (max_backups 2); the third waits for a slot; the WAIT holds the job.
  lines.push('BACKUP', 'BACKUP', 'BACKUP', 'WAIT 600000');
  writeFiles(dir, { 'big.job': lines.join('\n') + '\n' });
  const trace = join(dir, 'trace.txt');

  const child = spawn(process.execPath, [MAIN, dir, '2', '1', '--quiet'], {
    cwd: PROJECT_ROOT,
    // Its own process group, as a shell gives a foreground job; the backups are held open a while.
    detached: true,
    env: { ...process.env, ...backupHooks({ trace, holdMs: 300 }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let backupChildren: number[] = [];
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    for (const pid of backupChildren) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  const started = () => (existsSync(trace) ? readFileSync(trace, 'latin1').split('\n').filter((l) => l.startsWith('start ')) : []);
  await waitFor(() => (started().length >= 2 ? true : undefined), `two backups started (stderr: ${stderr})`, 60_000);
  backupChildren = childrenOf(child.pid!);
  t.true(backupChildren.length >= 2, `the backup children are the program's children: ${backupChildren.join(' ')}`);
  return { dir, child, exited, started, expected, backupChildren, stderr: () => stderr };
}

test('Ctrl-C to the process group lets the backups in progress finish whole, exits 130 and leaves no child', async (t) => {
  const { dir, child, exited, started, expected, backupChildren, stderr: errors } = await startBackingUp(t);
  process.kill(-child.pid!, 'SIGINT');
  const { code, signal } = await exited;
  const stderr = errors();
  t.is(signal, null, stderr);
  t.is(code, 130, stderr);
  t.notRegex(stderr, /failed|died/, 'no backup failed');

  const backups = listDir(dir).filter((name) => name.endsWith('.bck'));
  t.is(backups.length, started().length, `every backup started is written (${backups.join(' ')}; trace: ${started().join('; ')})`);
  t.true(backups.length >= 2);
  const want = expected.join('');
  for (const name of backups) t.true(readBytes(join(dir, name)) === want, `${name} holds the whole store`);
  t.deepEqual(
    listDir(dir).filter((name) => name.endsWith('.tmp')),
    [],
    'no temporary file left',
  );
  await waitFor(() => (backupChildren.every((pid) => !isAlive(pid)) ? true : undefined), `backup children ${backupChildren.join(' ')} to end`);
});

test('backup children end when the program is killed outright in the middle of backups', async (t) => {
  const { child, exited, backupChildren } = await startBackingUp(t);
  process.kill(child.pid!, 'SIGKILL');
  t.is((await exited).signal, 'SIGKILL');
  // Their stdin closes with the parent: they stop and exit, in their own process group or not.
  await waitFor(() => (backupChildren.every((pid) => !isAlive(pid)) ? true : undefined), `backup children ${backupChildren.join(' ')} to end`);
  t.pass();
});
