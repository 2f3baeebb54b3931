/** The client's DELAY past what a timer can hold: refused for its line, not run as no delay at all. */
import test from 'ava';
import { startClient, startServer } from '../helpers/processes.js';

for (const [compat, amount, longest] of [['seed', '99999999999', '2147483'], ['course', '2147483648', '2147483647']] as const) {
  test(`DELAY ${amount} (${compat}) is refused for its line with the longest delay named; the next commands run`, async (t) => {
    const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
    const client = await startClient(t, server.fifo, { compat, input: `DELAY ${amount}\nSUBSCRIBE k\n` });
    client.end();
    t.is(await client.waitForExit(), 0);
    t.is(client.stderr, `kvs-client: line 1: DELAY ${amount} is longer than the longest delay, ${longest}\n`);
    t.deepEqual(client.lines(), [
      'Server returned 0 for operation: connect',
      'Server returned 0 for operation: subscribe',
      'Server returned 0 for operation: disconnect',
    ]);
  });
}
