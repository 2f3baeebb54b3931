/**
 * Two clients started at the same moment with one id: exactly one gets a session, the other is
 * refused at once with one line naming the first, neither hangs, and no FIFO is left behind.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLIENT, Proc, clientFifos, startServer, uniqueId, waitUntilSeen } from '../helpers/processes.js';
import { removeFileSync } from '../../runtime/os/fifo.js';

const ROUNDS = 20;
/** A refusal is at once: well within this, even on a busy machine. */
const REFUSAL_MS = 20_000;

test('of two clients started together with one id exactly one gets a session, round after round', async (t) => {
  const server = await startServer(t);
  for (let round = 0; round < ROUNDS; round++) {
    const id = uniqueId();
    const clients = [0, 1].map(() => new Proc(spawn(process.execPath, [CLIENT, id, server.fifo], { stdio: ['pipe', 'pipe', 'pipe'] })));
    t.teardown(async () => {
      for (const c of clients) if (c.alive) c.child.kill('SIGKILL');
      await Promise.all(clients.map((c) => c.exited));
      for (const path of clientFifos(id)) removeFileSync(path);
    });
    const seen = () => clients.map((c) => `pid ${c.pid}: ${c.alive ? 'running' : `exit ${c.exitCode}`}, stdout ${JSON.stringify(c.stdout)}, stderr ${JSON.stringify(c.stderr)}`).join('; ');
    // The winner's input stays open: it keeps its session while the loser is refused.
    await waitUntilSeen(`round ${round}: one client refused, the other connected`, () => ({
      ok: clients.some((c) => !c.alive) && clients.some((c) => c.stdout.includes('Server returned 0 for operation: connect')),
      seen: seen(),
    }), REFUSAL_MS);
    const loser = clients.find((c) => !c.alive)!;
    const winner = clients.find((c) => c !== loser)!;
    t.true(winner.alive, `round ${round}: ${seen()}`);
    t.is(loser.exitCode, 1, `round ${round}: ${seen()}`);
    t.is(loser.stdout, '', `round ${round}: the loser never had a session`);
    t.is(loser.stderr, `kvs-client: /tmp/req${id}: is in use: another client with id ${id} is running (pid ${winner.pid}); use another client id\n`, `round ${round}`);
    winner.child.stdin!.end();
    t.is(await winner.waitForExit(REFUSAL_MS), 0, `round ${round}: ${seen()}`);
    t.deepEqual(clientFifos(id).filter((path) => existsSync(path)), [], `round ${round}: no FIFO left behind`);
  }
});
