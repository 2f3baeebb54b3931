/**
 * A stray writer's bytes on the registration FIFO (a connect request abandoned midway, or one
 * dribbled a byte at a time) do not swallow the next client's request: that client is answered.
 * The test writes the bytes and the client's request itself, back to back, on real FIFOs.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import test from 'ava';
import { encode } from '../../protocol/frames.js';
import { createFifos, openOwnWriteEnd, openReadEnd, removeFileSync } from '../../runtime/os/fifo.js';
import { startServer, uniqueId, waitUntilSeen } from '../helpers/processes.js';

test('a connect request right behind an unfinished one is answered; the server logs the stray bytes', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const id = uniqueId();
  const paths = [`/tmp/rsreq${id}`, `/tmp/rsresp${id}`, `/tmp/rsnotif${id}`] as const;
  t.teardown(() => paths.forEach((path) => removeFileSync(path)));
  await createFifos([...paths]);
  const resp = await openReadEnd(paths[1]);
  const notif = await openReadEnd(paths[2]);
  const req = await openOwnWriteEnd(paths[0]);
  t.teardown(() => [resp, notif, req].forEach((socket) => socket.destroy()));
  let answer = Buffer.alloc(0);
  resp.on('data', (chunk: Buffer) => (answer = Buffer.concat([answer, chunk])));
  const fd = openSync(server.fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    // Two writes back to back: well within the 100 ms after which a partial request is dropped.
    writeSync(fd, Buffer.from('\u0001/////', 'latin1'));
    writeSync(fd, encode({ kind: 'connect', reqPipe: paths[0], respPipe: paths[1], notifPipe: paths[2] }));
  } finally {
    closeSync(fd);
  }
  await waitUntilSeen('the connect answer', () => ({ ok: answer.length >= 2, seen: `answer ${answer.toString('hex')}, server stderr ${JSON.stringify(server.stderr)}` }));
  t.deepEqual([...answer.subarray(0, 2)], [1, 0]);
  t.regex(server.stderr, /registration FIFO: malformed connect request skipped/);
});
