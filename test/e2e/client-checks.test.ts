import { spawnSync } from 'node:child_process';
import test from 'ava';
import { CLIENT, startClient, startServer } from '../helpers/processes.js';

const HINT = "run 'node runtime/client.js --help' for the usage";

test('a key the job language refuses is reported for its line, not sent, and the session goes on', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const client = await startClient(t, server.fifo, { input: 'SUBSCRIBE [a\nUNSUBSCRIBE a]\nSUBSCRIBE k\n' });
  client.end();
  t.is(await client.waitForExit(), 0);
  // One response per command sent: the two bad lines sent nothing (each would have had a response).
  t.deepEqual(client.lines(), [
    'Server returned 0 for operation: connect',
    'Server returned 0 for operation: subscribe',
    'Server returned 0 for operation: disconnect',
  ]);
  t.is(
    client.stderr,
    "kvs-client: line 1: key '[a' has a reserved character '['\n" + "kvs-client: line 2: key 'a]' has a reserved character ']'\n",
  );
});

for (const [id, reason] of [
  ['a/b', "client id 'a/b' must be non-empty with no '/'"],
  ['x'.repeat(31), `client id '${'x'.repeat(31)}' is too long (31 bytes): the longest id that fits is 30 bytes, as /tmp/notif<id> must fit the protocol's 40`],
] as const) {
  test(`client id ${JSON.stringify(id)} is refused like any bad argument: the reason, a pointer to --help, exit 2`, (t) => {
    const run = spawnSync(process.execPath, [CLIENT, id, 'register_fifo'], { encoding: 'utf8' });
    t.is(run.status, 2);
    t.is(run.stderr, `kvs-client: ${reason}\n${HINT}\n`);
    t.is(run.stdout, '');
  });
}
