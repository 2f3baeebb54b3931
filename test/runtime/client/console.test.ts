import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { isInteractive, openConsole } from '../../../runtime/client/console.js';
import { removeFileSync } from '../../../runtime/os/fifo.js';
import { clientFifos, startServer, uniqueId, writeJob } from '../../helpers/processes.js';
import { PROJECT_ROOT, runCommand } from '../../helpers/program-run.js';

test('from a pipe, lines come in as bytes and text goes out unchanged, with no prompt', async (t) => {
  const input = Object.assign(new PassThrough(), { isTTY: undefined });
  const output = new PassThrough();
  const written: Buffer[] = [];
  output.on('data', (chunk: Buffer) => written.push(chunk));
  const console = openConsole({ input, output, onInterrupt: () => t.fail() });
  const reading = (async () => {
    const lines: string[] = [];
    for await (const line of console.lines) lines.push(line);
    return lines;
  })();
  input.end(Buffer.from('SUBSCRIBE [caf\xe9]\r\nDISCONNECT\n', 'latin1'));
  const lines = await reading;
  console.print('(caf\xe9,1)\n');
  t.deepEqual(lines, ['SUBSCRIBE [caf\xe9]', 'DISCONNECT']);
  t.deepEqual(Buffer.concat(written), Buffer.from('(caf\xe9,1)\n', 'latin1'));
});

test('the prompt is for a terminal on both sides', (t) => {
  t.true(isInteractive({ input: { isTTY: true } as never, output: { isTTY: true } as never }));
  t.false(isInteractive({ input: { isTTY: true } as never, output: {} as never }));
  t.false(isInteractive({ input: {} as never, output: { isTTY: true } as never }));
});

const hasPython = spawnSync('python3', ['--version']).status === 0;

test('on a terminal, text printed while a line is typed goes above it, and the line is redrawn intact', async (t) => {
  const run = await runCommand('python3', [
    join(PROJECT_ROOT, 'test', 'helpers', 'in-terminal.py'),
    ...['--when', 'kvs> ', 'SUB'],
    ...['--when', '(key,value2)', 'SCRIBE k\\n'],
    ...['--when', 'got SUBSCRIBE k', '\\x04'],
    '--',
    process.execPath,
    join(PROJECT_ROOT, 'dist', 'test', 'helpers', 'console-demo.js'),
  ]);
  t.is(run.code, 0, run.stdout);
  const screen = run.stdout;
  // A notification arrived while `SUB` was half typed: printed on a line of its own, then the
  // prompt is drawn again with `SUB` still there.
  t.regex(screen, /\(key,value[12]\)\r\n(?:\u001b\[[0-9;]*[A-Za-z])*kvs> SUB/);
  // The line typed in two parts around the notifications arrives whole.
  t.true(screen.includes('got SUBSCRIBE k'));
  t.regex(screen, /bye\r\n$/);
});

test('the client on a terminal prompts, and a notification arriving mid-line leaves the line intact', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const id = uniqueId();
  t.teardown(() => clientFifos(id).forEach((path) => removeFileSync(path)));
  let screen = '';
  let wrote = false;
  const run = await runCommand(
    'python3',
    [
      join(PROJECT_ROOT, 'test', 'helpers', 'in-terminal.py'),
      ...['--when', 'kvs> ', 'SUBSCRIBE k\\n'],
      ...['--when', 'operation: subscribe', 'UNSUB'],
      ...['--when', '(k,2)', 'SCRIBE k\\n'],
      ...['--when', 'operation: unsubscribe', '\\x04'],
      '--',
      process.execPath,
      join(PROJECT_ROOT, 'runtime', 'client.js'),
      id,
      server.fifo,
    ],
    {
      onSpawn: (child) =>
        child.stdout!.on('data', (chunk: Buffer) => {
          screen += chunk.toString('latin1');
          // Once `UNSUB` is on the screen, a job changes k: its notification arrives mid-line.
          if (!wrote && /operation: subscribe[\s\S]*UNSUB/.test(screen)) {
            wrote = true;
            void writeJob(server.dir, 'update.job', 'WRITE [(k,2)]\n');
          }
        }),
    },
  );
  t.is(run.code, 0, run.stdout);
  t.true(run.stdout.includes('Server returned 0 for operation: connect'));
  t.regex(run.stdout, /\(k,2\)\r\n(?:\u001b\[[0-9;]*[A-Za-z])*kvs> UNSUB/);
  t.true(run.stdout.includes('Server returned 0 for operation: unsubscribe'));
  t.true(run.stdout.includes('Server returned 0 for operation: disconnect'));
});
