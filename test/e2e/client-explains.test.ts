/**
 * The client explains itself to a newcomer: HELP, a pointer to .job files for the job commands,
 * "did you mean", what a result code means (at a terminal only: the course's line stays byte for
 * byte), and a clean line after Ctrl-C at the prompt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { removeFileSync } from '../../runtime/os/fifo.js';
import { CLIENT_COMMANDS_TEXT } from '../../protocol/client-commands.js';
import { clientFifos, startClient, startServer, uniqueId } from '../helpers/processes.js';
import { PROJECT_ROOT, runCommand } from '../helpers/program-run.js';

const POINTER = "keys are written, read and deleted by .job files (WRITE, READ, DELETE, SHOW, ...) in the server's jobs folder";

test('from a pipe, HELP lists the commands, a job command gets the pointer to .job files, a typo gets did-you-mean, and result lines stay bare', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const client = await startClient(t, server.fifo, { input: 'SUBSCRIBE nokey\nHELP\nREAD [k]\nwrite [(k,2)]\nSUBSCIBE k\n' });
  client.end();
  t.is(await client.waitForExit(), 0);
  t.is(
    client.stdout,
    'Server returned 0 for operation: connect\n' + 'Server returned 1 for operation: subscribe\n' + CLIENT_COMMANDS_TEXT + 'Server returned 0 for operation: disconnect\n',
  );
  t.true(CLIENT_COMMANDS_TEXT.includes(POINTER), 'HELP points at .job files');
  t.is(
    client.stderr,
    `kvs-client: line 3: READ is a job command, not the client's: ${POINTER} (HELP lists the client's commands)\n` +
      `kvs-client: line 4: WRITE is a job command, not the client's: ${POINTER} (HELP lists the client's commands)\n` +
      "kvs-client: line 5: unknown command 'SUBSCIBE' (did you mean SUBSCRIBE?)\n",
  );
});

/** The client at a terminal (test/helpers/in-terminal.py), typing each text once its cue is on the screen. */
async function inTerminal(t: import('ava').ExecutionContext, fifo: string, keys: ReadonlyArray<readonly [string, string]>) {
  const id = uniqueId();
  t.teardown(() => clientFifos(id).forEach((path) => removeFileSync(path)));
  return runCommand('python3', [
    join(PROJECT_ROOT, 'test', 'helpers', 'in-terminal.py'),
    ...keys.flatMap(([cue, text]) => ['--when', cue, text]),
    '--',
    process.execPath,
    join(PROJECT_ROOT, 'runtime', 'client.js'),
    id,
    fifo,
  ]);
}

test('at a terminal, each SUBSCRIBE and UNSUBSCRIBE result is followed by what it means, the course line unchanged', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const run = await inTerminal(t, server.fifo, [
    ['kvs> ', 'SUBSCRIBE nokey\\n'],
    ['a WRITE in a .job file creates it', 'SUBSCRIBE k\\n'],
    ['each change to it prints', 'UNSUBSCRIBE k\\n'],
    ['unsubscribed from k', 'UNSUBSCRIBE k\\n'],
    ['there was no subscription to k', '\\x04'],
  ]);
  t.is(run.code, 0, run.stdout);
  const screen = run.stdout.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
  t.regex(screen, /Server returned 1 for operation: subscribe\r\n(?:kvs> )*kvs-client: not subscribed: there is no key nokey; a WRITE in a \.job file creates it\r\n/);
  t.regex(screen, /Server returned 0 for operation: subscribe\r\n(?:kvs> )*kvs-client: subscribed to k: each change to it prints as \(k,value\)\r\n/);
  t.regex(screen, /Server returned 0 for operation: unsubscribe\r\n(?:kvs> )*kvs-client: unsubscribed from k\r\n/);
  t.regex(screen, /Server returned 1 for operation: unsubscribe\r\n(?:kvs> )*kvs-client: there was no subscription to k\r\n/);
});

test('Ctrl-C at the prompt ends the prompt line before the client exits 130', async (t) => {
  const server = await startServer(t);
  const run = await inTerminal(t, server.fifo, [['kvs> ', '\\x03']]);
  t.is(run.code, 130, run.stdout);
  // The last thing on the screen is the end of the prompt's line, so the shell's prompt starts a line.
  t.regex(run.stdout, /kvs> (?:\u001b\[[0-9;]*[A-Za-z])*\r\n$/);
});

test('--version on the server and the client prints the package name and version', async (t) => {
  const { name, version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  for (const entry of ['main.js', 'client.js']) {
    const run = await runCommand(process.execPath, [join(PROJECT_ROOT, 'runtime', entry), '--version']);
    t.is(run.code, 0, entry);
    t.is(run.stdout, `${name} ${version}\n`, entry);
    t.is(run.stderr, '', entry);
  }
});
