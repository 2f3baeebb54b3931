/**
 * The README's server demo ("Server mode and the client"), run as a user would follow it: the
 * commands are read from the README's code block, so the test breaks when the README drifts. They
 * run in a temporary folder holding a copy of the repository's `jobs/`; only what must be unique on
 * a shared machine is renamed: the demo's scratch folder and the client's id (its FIFOs are
 * `/tmp/req<id>`...). What the README says a terminal prints (`# ... prints X`) is checked.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Proc, ROOT, clientFifos, tempDir, uniqueId, waitUntil } from '../helpers/processes.js';
import { removeFileSync } from '../../runtime/os/fifo.js';

interface DemoLine {
  readonly command: string;
  /** The terminal the README runs it in, or null for input typed into the terminal above, or setup. */
  readonly terminal: number | null;
  /** What the README says it prints, and in which terminal (null: its own). */
  readonly prints: { readonly terminal: number | null; readonly text: string } | null;
}

/** The first ```sh block after the "Server mode and the client" heading, line by line. */
function readDemo(): DemoLine[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf('\n## Server mode and the client\n');
  if (section < 0) throw new Error('README.md has no "## Server mode and the client" section');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(section));
  if (block === null) throw new Error('no ```sh block in "Server mode and the client"');
  return block[1]!
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      // The comment starts at a `#` after two blanks or more (a command holds none).
      const match = /^(.*?)\s{2,}#\s*(.*)$/.exec(line);
      const command = (match?.[1] ?? line).trim();
      const comment = match?.[2] ?? '';
      const terminal = /^terminal (\d+)/.exec(comment);
      const prints = /(?:terminal (\d+) )?prints (.+)$/.exec(comment);
      return {
        command,
        terminal: terminal === null ? null : Number(terminal[1]),
        prints: prints === null ? null : { terminal: prints[1] === undefined ? null : Number(prints[1]), text: prints[2]! },
      };
    });
}

test("the README's server demo works as written and leaves the sample jobs folder as it was", async (t) => {
  const demo = readDemo();
  const work = await tempDir(t);
  cpSync(join(ROOT, 'jobs'), join(work, 'jobs'), { recursive: true });
  const samples = readdirSync(join(work, 'jobs')).sort();
  const scratch = join(work, 'scratch');
  const id = uniqueId();
  t.teardown(() => {
    for (const path of clientFifos(id)) removeFileSync(path);
  });
  const rename = (command: string) => {
    t.true(command.includes('/tmp/kvs-demo') || !command.includes('/tmp/'), `only the scratch folder is under /tmp: ${command}`);
    return command
      .replaceAll('/tmp/kvs-demo', scratch)
      .replace(/^node runtime\//, `${process.execPath} ${ROOT}/runtime/`)
      .replace(/^(\S+ \S+runtime\/client\.js) c1 /, `$1 ${id} `);
  };

  const terminals = new Map<number, Proc>();
  let last: Proc | null = null;
  const printed = (terminal: number | null) => {
    const proc = terminal === null ? last : terminals.get(terminal);
    if (proc === null || proc === undefined) throw new Error(terminal === null ? 'the README says a line prints something, but not in which terminal' : `the README names terminal ${terminal}, which it never started`);
    return proc;
  };
  t.teardown(async () => {
    for (const proc of [...terminals.values()].reverse()) await proc.stop();
  });

  for (const line of demo) {
    const command = rename(line.command);
    if (line.terminal === null && last !== null) {
      // Typed into the terminal above (the client reads its commands on stdin).
      last.child.stdin!.write(`${line.command}\n`);
    } else if (line.command.startsWith('node ')) {
      // A long-running program: started in its terminal, and let to get ready as a user would.
      const proc = new Proc(spawn('sh', ['-c', `exec ${command}`], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] }));
      proc.child.stdin!.on('error', () => undefined);
      terminals.set(line.terminal ?? terminals.size + 1, proc);
      last = proc;
      if (command.includes('runtime/main.js')) {
        // A user starts the client once the server has run its jobs (one `done` line each).
        const folder = command.split(' ')[2]!;
        const jobs = readdirSync(folder).filter((name) => name.endsWith('.job'));
        await waitUntil(`the server to run ${jobs.join(', ')} (stderr: ${proc.stderr})`, () => {
          if (!proc.alive) throw new Error(`the server exited with ${proc.exitCode}: ${proc.stderr}`);
          return jobs.every((name) => proc.stderr.includes(`kvs: ${join(folder, name)} done:`));
        }, 30_000);
      } else {
        await proc.waitForOutput('Server returned 0 for operation: connect');
      }
    } else {
      // A shell command that runs to its end (the setup, terminal 3's echo).
      const run = spawnSync('sh', ['-c', command], { cwd: work, encoding: 'utf8' });
      t.is(run.status, 0, `${line.command}: ${run.stderr}`);
      if (line.terminal !== null) last = null;
    }
    if (line.prints !== null) {
      const proc = printed(line.prints.terminal);
      await proc.waitForOutput(`${line.prints.text}\n`);
    }
  }

  t.true(terminals.size >= 2, 'the demo starts a server and a client');
  const client = [...terminals.values()].find((proc) => proc.child.spawnargs.join(' ').includes('client.js'))!;
  t.true(client.stdout.includes('Server returned 0 for operation: subscribe\n'), client.stdout);
  t.true(client.stdout.includes('(key1,newvalue)\n'), client.stdout);
  // Ctrl-C in terminal 1 ends the server; the client goes with its session.
  const server = terminals.get(1)!;
  server.child.kill('SIGINT');
  t.is(await server.waitForExit(20_000), 0, server.stderr);
  t.deepEqual(readdirSync(join(work, 'jobs')).sort(), samples, 'the sample jobs folder is as it was');
});
