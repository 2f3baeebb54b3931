/**
 * `npm run inspect` where it cannot listen: a port another program holds (8080 often is), an
 * address that is not this machine's, a host name that does not resolve. Each is one line on
 * stderr and exit 1, never a stack trace. The relay, when it does start, is stopped by its run's
 * deadline; the port's holder is closed in t.teardown.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { freePort } from '../helpers/inspector-relay.js';
import { PROJECT_ROOT, runCommand } from '../helpers/program-run.js';

const RELAY = join(PROJECT_ROOT, 'dist', 'scripts', 'inspect-relay.js');

/** One line, the relay's own, with no trace of a stack. */
function assertOneLine(t: import('ava').ExecutionContext, stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((line) => line.length > 0);
  t.is(lines.length, 1, stderr);
  t.regex(lines[0] ?? '', pattern);
  t.false(/\n\s+at |Unhandled/.test(stderr), stderr);
}

test('a port in use is one line that names it and a port to try, exit 1', async (t) => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const result = await runCommand(process.execPath, [RELAY, '--port', String(port)], { deadlineMs: 60_000 });
  t.false(result.killed, 'the relay exited by itself');
  t.is(result.code, 1, result.stderr);
  assertOneLine(t, result.stderr, new RegExp(`^inspect: port ${port} is in use; try: npm run inspect -- --port ${port + 1}$`));
});

test('an address that is not this machine\'s is one line and exit 1', async (t) => {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): documentation only, on no interface.
  const result = await runCommand(process.execPath, [RELAY, '--port', String(await freePort()), '--host', '192.0.2.1'], { deadlineMs: 60_000 });
  t.false(result.killed, 'the relay exited by itself');
  t.is(result.code, 1, result.stderr);
  assertOneLine(t, result.stderr, /^inspect: cannot listen on 192\.0\.2\.1:\d+: EADDRNOTAVAIL/);
});

test('a host name that does not resolve is one line and exit 1', async (t) => {
  // .invalid never resolves (RFC 2606).
  const result = await runCommand(process.execPath, [RELAY, '--port', String(await freePort()), '--host', 'no-such-host.invalid'], { deadlineMs: 60_000 });
  t.false(result.killed, 'the relay exited by itself');
  t.is(result.code, 1, result.stderr);
  assertOneLine(t, result.stderr, /^inspect: cannot listen on no-such-host\.invalid:\d+: /);
});
