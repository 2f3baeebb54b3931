/**
 * A second stop signal ends the server at once (README, "Running it"): it must still take its
 * registration FIFO with it, as the first signal's graceful stop does. Two different signals sent
 * back to back (two of one kind would merge into one pending signal) reach the server in one
 * turn of its event loop, before the first one's asynchronous removal of the FIFO could run:
 * before the fix the FIFO was left behind each time. Real server processes, stopped in t.teardown.
 */
import { existsSync } from 'node:fs';
import test from 'ava';
import { startServer } from '../helpers/processes.js';

for (const [first, second] of [
  ['SIGTERM', 'SIGINT'],
  ['SIGINT', 'SIGHUP'],
] as const) {
  test(`${first} and ${second} at once: the server exits by the second it handles and removes its registration FIFO`, async (t) => {
    // A few rounds: whether both signals land in one turn is the scheduler's; most rounds they do.
    for (let round = 1; round <= 4; round++) {
      const server = await startServer(t);
      t.true(existsSync(server.fifo));
      server.child.kill(first);
      server.child.kill(second);
      await server.waitForExit();
      // Both handled: ended by the one it saw second (which is the kernel's choice: pending signals
      // go lowest number first), as a shell would see it. One only: the graceful stop, exit 0.
      if (server.stderr.includes('interrupted twice: exiting now')) {
        t.true(server.signal === first || server.signal === second, `round ${round}: ended by a stop signal, not ${server.signal ?? server.exitCode}`);
      } else {
        t.is(server.exitCode, 0, `round ${round}: ${server.stderr}`);
      }
      t.false(existsSync(server.fifo), `round ${round}: the registration FIFO is gone either way; stderr: ${server.stderr}`);
    }
  });
}
