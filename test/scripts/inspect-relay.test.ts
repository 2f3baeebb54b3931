/**
 * `npm run inspect`'s script as a user meets it: --help, bad options, the address it listens on,
 * and the line it prints as a program connects and leaves. Each relay is stopped in t.teardown.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import WebSocket from 'ws';
import { freePort } from '../helpers/inspector-relay.js';
import { PROJECT_ROOT, runCommand } from '../helpers/program-run.js';

const RELAY = join(PROJECT_ROOT, 'dist', 'scripts', 'inspect-relay.js');

async function startRelay(t: ExecutionContext, args: readonly string[]): Promise<{ output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [RELAY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  t.teardown(stop);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  await until(() => output.includes('listening on') || child.exitCode !== null, () => `the relay did not start: ${output}`);
  return { output: () => output, stop };
}

async function until(check: () => boolean, said: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(said());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** 'open' or the error code of a TCP connection to host:port. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

test('--help prints the usage and exits 0', async (t) => {
  const run = await runCommand(process.execPath, [RELAY, '--help']);
  t.is(run.code, 0);
  t.regex(run.stdout, /^usage: npm run inspect/);
  t.regex(run.stdout, /--host ADDRESS/);
  t.is(run.stderr, '');
});

test('an unknown option or a bad port is one line of reason and the usage, exit 2, no stack trace', async (t) => {
  for (const [args, reason] of [
    [['--bogus'], "inspect: Unknown option '--bogus'"],
    [['--port', 'eighty'], "inspect: --port must be a port number (1-65535), not 'eighty'"],
    [['--port', '70000'], "inspect: --port must be a port number (1-65535), not '70000'"],
  ] as const) {
    const run = await runCommand(process.execPath, [RELAY, ...args]);
    t.is(run.code, 2, args.join(' '));
    t.true(run.stderr.startsWith(`${reason}\nusage: npm run inspect`), run.stderr);
    t.false(run.stderr.includes('    at '), run.stderr);
  }
});

test('by default the relay listens on 127.0.0.1 only; --host 0.0.0.0 opens it to every interface', async (t) => {
  const port = await freePort();
  const local = await startRelay(t, ['--port', String(port)]);
  t.regex(local.output(), /listening on ws:\/\/localhost:\d+ \(127\.0\.0\.1 only\)/);
  t.is(await tryConnect('127.0.0.1', port), 'open');
  // Another loopback address reaches a socket bound to every interface, not one bound to 127.0.0.1.
  t.is(await tryConnect('127.0.0.2', port), 'ECONNREFUSED');
  await local.stop();

  const everyPort = await freePort();
  const every = await startRelay(t, ['--port', String(everyPort), '--host', '0.0.0.0']);
  t.regex(every.output(), /\(every interface\)/);
  t.is(await tryConnect('127.0.0.2', everyPort), 'open');
});

test('a program connecting and leaving is one line each, the second with the events it relayed', async (t) => {
  const port = await freePort();
  const relay = await startRelay(t, ['--port', String(port)]);
  const viewer = new WebSocket(`ws://127.0.0.1:${port}`);
  t.teardown(() => viewer.terminate());
  const received: string[] = [];
  viewer.on('message', (data) => received.push(String(data)));
  await new Promise((resolve, reject) => viewer.once('open', resolve).once('error', reject));

  const program = new WebSocket(`ws://127.0.0.1:${port}`);
  t.teardown(() => program.terminate());
  await new Promise((resolve, reject) => program.once('open', resolve).once('error', reject));
  for (let i = 0; i < 3; i++) program.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', event: { type: `e${i}` } }));
  await until(() => received.length === 3, () => `the viewer got ${received.length} of 3`);
  program.close();
  await until(() => /disconnected/.test(relay.output()), () => relay.output());
  const lines = relay.output().split('\n').filter((line) => line.startsWith('inspect: '));
  t.is(lines.length, 2, relay.output());
  t.regex(lines[0]!, /^inspect: a program connected from 127\.0\.0\.1:\d+$/);
  t.regex(lines[1]!, /^inspect: the program from 127\.0\.0\.1:\d+ disconnected after 3 events relayed$/);
  // The viewer, which only listens, is not counted as a program.
  t.deepEqual(received.map((text) => (JSON.parse(text) as { event: { type: string } }).event.type), ['e0', 'e1', 'e2']);
});
