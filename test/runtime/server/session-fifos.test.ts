/**
 * The server's end of a client's FIFOs (runtime/server/session-fifos.ts), on real FIFOs in this process.
 */
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import { createFifos } from '../../../runtime/os/fifo.js';
import { FifoClaims } from '../../../runtime/server/fifo-claims.js';
import { openSessionFifos } from '../../../runtime/server/session-fifos.js';
import { DEFAULT_LIMITS } from '../../../protocol/notification-limits.js';
import { tempDir, waitUntilSeen } from '../../helpers/fixtures.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** What this process holds open on `paths`. */
async function held(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => null);
    if (target !== null && paths.includes(target)) found.push(`${fd}->${target}`);
  }
  return found;
}

test('a dead client\'s response FIFO is given up at the handshake deadline, garbage collections or not, and nothing stays open', async (t) => {
  const dir = tempDir(t);
  const [req, resp, notif] = ['req', 'resp', 'notif'].map((name) => join(dir, name)) as [string, string, string];
  // FIFOs a killed client left: nobody reads resp or notif, nobody writes req.
  await createFifos([req, resp, notif]);
  let outcome: string | null = null;
  const opening = openSessionFifos(
    { kind: 'connect', reqPipe: req, respPipe: resp, notifPipe: notif },
    { handshakeMs: 200, notifyLimits: DEFAULT_LIMITS, signal: new AbortController().signal, claims: new FifoClaims(), owner: 'session 0' },
  ).then(
    () => (outcome = 'opened'),
    (error: unknown) => (outcome = error instanceof Error ? error.message : String(error)),
  );
  // A garbage collection while the open waits: on Node 20 it took the deadline's timeout signal
  // when the deadline was AbortSignal.any([signal, AbortSignal.timeout(ms)]).
  const collecting = setInterval(gc, 10);
  t.teardown(() => clearInterval(collecting));
  await waitUntilSeen('the open to give up', async () => ({ ok: outcome !== null, seen: `still waiting, holding ${(await held([req, resp, notif])).join(' ')}` }));
  await opening;
  t.regex(outcome!, /resp: gave up waiting for a reader/);
  t.deepEqual(await held([req, resp, notif]), []);
});
