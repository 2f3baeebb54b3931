/** The client's command line: what is refused as bad usage, and what --help promises. */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { CLIENT, uniqueId } from '../helpers/processes.js';

test('an empty registration FIFO path is bad usage (exit 2, the reason and a pointer to --help), as it is for the server', (t) => {
  const run = spawnSync(process.execPath, [CLIENT, uniqueId(), ''], { encoding: 'utf8' });
  t.is(run.status, 2, run.stderr);
  t.is(run.stderr, "kvs-client: the registration FIFO path is empty\nrun 'node runtime/client.js --help' for the usage\n");
  t.is(run.stdout, '');
});

test('client --help names every exit status the client uses, Ctrl-C\'s 130 included', (t) => {
  const run = spawnSync(process.execPath, [CLIENT, '--help'], { encoding: 'utf8' });
  t.is(run.status, 0);
  const exitStatus = run.stdout.slice(run.stdout.indexOf('Exit status:')).replace(/\s+/g, ' ');
  for (const phrase of ['0 after DISCONNECT', '1 when the server ends the session', '2 bad usage', '130 on Ctrl-C', '143 on SIGTERM', '129 on SIGHUP']) {
    t.true(exitStatus.includes(phrase), `'${phrase}' in: ${exitStatus}`);
  }
});
