/**
 * The client against a server that goes away after DISCONNECT is sent and before it is answered
 * (killed, or stopped and then killed). The server here is this test: it answers connect on real
 * FIFOs, takes the DISCONNECT byte, then closes everything without answering.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { createFifos, openReadEnd, openRegistrationEnd, openWriteEnd, removeFileSync } from '../../runtime/os/fifo.js';
import { FrameReader } from '../../protocol/frame-reader.js';
import { OpCode, encodeResponse } from '../../protocol/frames.js';
import { CLIENT, DEADLINE_MS, Proc, clientFifos, tempDir, uniqueId, waitUntilSeen } from '../helpers/processes.js';

/** Bytes read from a socket so far, and a wait for the first `n` of them. */
function collect(socket: net.Socket): { bytes: () => Buffer; waitFor: (n: number, what: string) => Promise<void> } {
  let bytes = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (bytes = Buffer.concat([bytes, chunk])));
  socket.on('error', () => {});
  return {
    bytes: () => bytes,
    waitFor: (n, what) => waitUntilSeen(what, () => ({ ok: bytes.length >= n, seen: `${bytes.length} bytes: ${bytes.toString('hex')}` })),
  };
}

/**
 * Starts a client on a registration FIFO this test reads, answers its connect, takes its
 * DISCONNECT and then hangs up without answering it, as a server killed at that moment does.
 */
async function clientOfVanishingServer(t: ExecutionContext, stdinOpen: boolean): Promise<Proc> {
  const dir = tempDir(t);
  const fifo = join(dir, 'register_fifo');
  await createFifos([fifo]);
  const registration = await openRegistrationEnd(fifo);
  t.teardown(() => registration.destroy());
  const id = uniqueId();
  const client = new Proc(spawn(process.execPath, [CLIENT, id, fifo], { stdio: ['pipe', 'pipe', 'pipe'] }));
  client.child.stdin?.on('error', () => {});
  t.teardown(async () => {
    if (client.alive) client.child.kill('SIGKILL');
    await client.exited;
    for (const path of clientFifos(id)) removeFileSync(path);
  });
  const connects = new FrameReader('register');
  const connect = await new Promise<{ reqPipe: string; respPipe: string; notifPipe: string }>((resolve, reject) => {
    registration.on('data', (chunk: Buffer) => {
      for (const frame of connects.push(chunk)) {
        if (frame.ok) resolve(frame.value);
        else reject(new Error(frame.error.message));
      }
    });
  });
  const deadline = AbortSignal.timeout(DEADLINE_MS);
  const resp = await openWriteEnd(Buffer.from(connect.respPipe, 'latin1'), deadline);
  const req = await openReadEnd(Buffer.from(connect.reqPipe, 'latin1'));
  const notif = await openWriteEnd(Buffer.from(connect.notifPipe, 'latin1'), deadline);
  t.teardown(() => [resp, req, notif].forEach((s) => s.destroy()));
  resp.on('error', () => {});
  notif.on('error', () => {});
  const requests = collect(req);
  resp.write(encodeResponse(OpCode.Connect, 0));
  await client.waitForOutput('Server returned 0 for operation: connect');
  client.child.stdin?.write('DISCONNECT\n');
  if (!stdinOpen) client.child.stdin?.end();
  await requests.waitFor(1, 'the DISCONNECT byte on the request FIFO');
  t.is(requests.bytes()[0], OpCode.Disconnect);
  for (const socket of [resp, req, notif]) socket.destroy();
  return client;
}

for (const stdinOpen of [true, false]) {
  test(`a server gone before answering DISCONNECT ends the client with exit 1 and a reason (stdin ${stdinOpen ? 'still open' : 'at its end'})`, async (t) => {
    const client = await clientOfVanishingServer(t, stdinOpen);
    t.is(await client.waitForExit(), 1, `stderr: ${client.stderr}`);
    t.is(client.stderr, 'kvs-client: the server closed the session before answering DISCONNECT\n');
    t.deepEqual(client.lines(), ['Server returned 0 for operation: connect']);
    const id = String(client.child.spawnargs[2]);
    t.false(clientFifos(id).some((path) => existsSync(path)), 'the client removed its FIFOs');
  });
}
