/**
 * The server's end of a client's FIFOs (runtime/server/session-fifos.ts), on real FIFOs in this process.
 */
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import test from 'ava';
import { createFifos, openOwnWriteEnd, openReadEnd } from '../../../runtime/os/fifo.js';
import { FifoClaims } from '../../../runtime/server/fifo-claims.js';
import { openSessionFifos } from '../../../runtime/server/session-fifos.js';
import { DEFAULT_LIMITS } from '../../../protocol/notification-limits.js';
import { OpCode } from '../../../protocol/frames.js';
import type { SessionLink } from '../../../protocol/session-link.js';
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

/** A client's three FIFOs opened by this process, and the server's link to them, joined. */
async function joined(t: import('ava').ExecutionContext): Promise<{ link: SessionLink; answers: () => Promise<number[]> }> {
  const dir = tempDir(t);
  const [req, resp, notif] = ['req', 'resp', 'notif'].map((name) => join(dir, name)) as [string, string, string];
  await createFifos([req, resp, notif]);
  const respEnd = await openReadEnd(resp);
  const notifEnd = await openReadEnd(notif);
  notifEnd.resume();
  const reqEnd = await openOwnWriteEnd(req);
  t.teardown(() => [respEnd, notifEnd, reqEnd].forEach((socket) => socket.destroy()));
  const link = await openSessionFifos(
    { kind: 'connect', reqPipe: req, respPipe: resp, notifPipe: notif },
    { handshakeMs: 5000, notifyLimits: DEFAULT_LIMITS, signal: new AbortController().signal, claims: new FifoClaims(), owner: 'session 0' },
  );
  await link.ready(new AbortController().signal);
  const bytes: number[] = [];
  respEnd.on('data', (chunk: Buffer) => bytes.push(...chunk));
  const ended = new Promise<void>((resolve) => respEnd.once('end', resolve));
  return { link, answers: () => ended.then(() => bytes) };
}

test('the answers of a turn are written after it, in order; a close in that same turn still writes them first', async (t) => {
  const { link, answers } = await joined(t);
  link.respond(OpCode.Connect, 0);
  link.respond(OpCode.Subscribe, 0);
  link.respond(OpCode.Subscribe, 1);
  link.respond(OpCode.Unsubscribe, 0);
  // Not graceful (malformed input, a client gone): the FIFO is destroyed at once, after the answers.
  await link.close(false);
  t.deepEqual(await answers(), [1, 0, 3, 0, 3, 1, 4, 0]);
});

test('answers given in separate turns all arrive, in order, and a DISCONNECT is answered before the close', async (t) => {
  const { link, answers } = await joined(t);
  link.respond(OpCode.Subscribe, 0);
  await new Promise((resolve) => setImmediate(resolve));
  link.respond(OpCode.Subscribe, 1);
  link.respond(OpCode.Disconnect, 0);
  await link.close(true);
  t.deepEqual(await answers(), [3, 0, 3, 1, 2, 0]);
});
