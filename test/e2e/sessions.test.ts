import { existsSync } from 'node:fs';
import { lstat, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { encode } from '../../protocol/frames.js';
import { DEFAULT_LIMITS } from '../../protocol/notification-limits.js';
import { createFifos } from '../../runtime/os/fifo.js';
import { ask, nthLine, openFds, startClient, startRawClient, startServer, tempDir, waitUntil, writeJob } from '../helpers/processes.js';

test('S+1 clients: the last one waits for a session, then connects when one leaves', async (t) => {
  const server = await startServer(t, { sessions: 2 });
  const first = await startClient(t, server.fifo);
  await startClient(t, server.fifo);
  // The third client is the raw one: it says when its connect request is in the registration FIFO.
  const third = startRawClient(t, server.fifo);
  t.is(await nthLine(third, 1), 'sent connect');
  // No bare sleep: a malformed frame written after that request is logged by the host once it has
  // read it, so from then on the third request is in the server's hands, behind two full sessions.
  await writeFile(server.fifo, Buffer.from([0x09]), { flag: 'a' });
  await waitUntil('the host to read past the third request', () => server.stderr.includes('malformed connect request skipped'));
  const thirdFifos = new Set(third.paths);
  const held = (await openFds(server.pid)).filter((fd) => thirdFifos.has(fd.target.replace(/ \(deleted\)$/, '')));
  t.deepEqual(held, [], "the server holds none of the third client's FIFOs while both sessions are taken");
  t.deepEqual(third.lines(), ['sent connect'], 'the third client is not served while both sessions are taken');
  t.is(await ask(first, 'DISCONNECT', 'disconnect'), '0');
  // Served only now, after a session ended: its FIFOs are opened and it gets its connect response.
  t.is(await nthLine(third, 3), 'response 1 0');
  third.send('subscribe none');
  t.is(await nthLine(third, 4), 'response 3 1');
});

test('a python client speaking the raw protocol, opening its FIFOs in the C order, is served byte for byte', async (t) => {
  const server = await startServer(t, { jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  const raw = startRawClient(t, server.fifo);
  t.is(await nthLine(raw, 3), 'response 1 0');
  raw.send('subscribe k');
  t.is(await nthLine(raw, 4), 'response 3 0');
  raw.send('subscribe missing');
  t.is(await nthLine(raw, 5), 'response 3 1');
  await writeJob(server.dir, 'b.job', 'WRITE [(k,2)]\nDELETE [k]\n');
  raw.send('notif');
  raw.send('notif');
  t.is(await nthLine(raw, 6), 'notif k 2');
  t.is(await nthLine(raw, 7), 'notif k DELETED');
  raw.send('unsubscribe k');
  t.is(await nthLine(raw, 8), 'response 4 0');
  raw.send('unsubscribe k');
  t.is(await nthLine(raw, 9), 'response 4 1');
  raw.send('disconnect');
  t.is(await nthLine(raw, 10), 'response 2 0');
  raw.send('response');
  t.is(await nthLine(raw, 11), 'eof');
});

const malformed: Array<[string, string, string[]]> = [
  ['an unknown op code ends the session with no answer', '09', ['eof']],
  ['a connect on the request FIFO ends the session', '01', ['eof']],
  ['a key that is not NUL-terminated is answered with an error, then the session ends', '03' + '61'.repeat(41), ['response 3 1', 'eof']],
  ['an empty key to UNSUBSCRIBE is answered with an error, then the session ends', '04' + '00'.repeat(41), ['response 4 1', 'eof']],
];

for (const [title, hex, expected] of malformed) {
  test(`malformed request: ${title}; the server carries on`, async (t) => {
    const server = await startServer(t, { sessions: 1 });
    const raw = startRawClient(t, server.fifo);
    t.is(await nthLine(raw, 3), 'response 1 0');
    raw.send(`raw ${hex}`);
    t.is(await nthLine(raw, 4), 'sent');
    expected.forEach(() => raw.send('response'));
    for (const [i, line] of expected.entries()) t.is(await nthLine(raw, 5 + i), line);
    const next = await startClient(t, server.fifo);
    t.is(await ask(next, 'SUBSCRIBE none', 'subscribe'), '1');
  });
}

test('a short frame followed by EOF ends the session and the server serves the next client', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const raw = startRawClient(t, server.fifo);
  t.is(await nthLine(raw, 3), 'response 1 0');
  raw.send('raw 0361');
  raw.send('close');
  t.is(await raw.waitForExit(), 0);
  const next = await startClient(t, server.fifo);
  t.is(await ask(next, 'SUBSCRIBE none', 'subscribe'), '1');
});

test('a client that never reads its notifications is cut off at the hard cap; the others get every change', async (t) => {
  const server = await startServer(t, { sessions: 3, jobs: { 'a.job': 'WRITE [(k,0)(r,0)]\n' } });
  const raw = startRawClient(t, server.fifo);
  t.is(await nthLine(raw, 3), 'response 1 0');
  raw.send('subscribe k');
  t.is(await nthLine(raw, 4), 'response 3 0');
  const reader = await startClient(t, server.fifo);
  t.is(await ask(reader, 'SUBSCRIBE r', 'subscribe'), '0');
  // Past the 32 MiB cap in 82-byte frames for the client that never reads; the reader's key
  // changes every 1,000 writes, so that only the idle client's queue grows.
  const n = Math.ceil(DEFAULT_LIMITS.capBytes / 82) + 10_000;
  const lines = Array.from({ length: n }, (_, i) => (i % 1000 === 999 ? `WRITE [(k,${i + 1})(r,${i + 1})]` : `WRITE [(k,${i + 1})]`));
  await writeJob(server.dir, 'flood.job', `${lines.join('\n')}\n`);
  const last = Math.floor(n / 1000) * 1000;
  await reader.waitForOutput(`(r,${last})\n`).catch((error: Error) => {
    throw new Error(`${error.message}\nserver stderr: ${server.stderr}`);
  });
  t.deepEqual(reader.lines().filter((l) => l.startsWith('(r,')), Array.from({ length: last / 1000 }, (_, i) => `(r,${(i + 1) * 1000})`));
  await waitUntil('the overflow to be reported', () => server.stderr.includes('not reading its notifications'));
  // The stalled session was ended: its response FIFO reaches EOF.
  raw.send('response');
  t.is(await nthLine(raw, 5), 'eof');
  const next = await startClient(t, server.fifo);
  t.is(await ask(next, 'SUBSCRIBE k', 'subscribe'), '0');
});

async function sendConnect(fifo: string, paths: [string, string, string]): Promise<void> {
  const frame = encode({ kind: 'connect', reqPipe: paths[0], respPipe: paths[1], notifPipe: paths[2] });
  await writeFile(fifo, frame, { flag: 'a' });
}

test('a pipe path holding terminal escapes and a newline is logged on one line, escaped', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const path = '/tmp/\u001b[2J\nforged';
  await sendConnect(server.fifo, [path, path, path]);
  await waitUntil('the request refused', () => server.stderr.includes("cannot open the client's FIFOs"));
  t.false(server.stderr.includes('\u001b'), 'no escape character reaches stderr');
  t.regex(server.stderr, /^kvs: session \d \(\/tmp\/\\x1b\[2J\\x0aforged\): cannot open the client's FIFOs: .*: does not exist$/m);
  t.false(server.stderr.split('\n').some((line) => line.startsWith('forged')));
  const next = await startClient(t, server.fifo);
  t.is(await ask(next, 'SUBSCRIBE none', 'subscribe'), '1');
});

test('a regular file or a symlink given as a pipe path is never opened for writing', async (t) => {
  const server = await startServer(t, { sessions: 1 });
  const dir = await tempDir(t);
  const victim = join(dir, 'victim.txt');
  await writeFile(victim, 'precious\n');
  const link = join(dir, 'link');
  await symlink(victim, link);
  const fifoTarget = join(dir, 'fifo-target');
  const raw = startRawClient(t, server.fifo);
  t.is(await nthLine(raw, 3), 'response 1 0');
  raw.send('disconnect');
  t.is(await nthLine(raw, 4), 'response 2 0');
  raw.send('close');
  await raw.waitForExit();
  await createFifos([join(dir, 'r1'), join(dir, 'r2')]);
  // Hand-made connect requests naming a regular file and a symlink as response/notification FIFOs.
  await sendConnect(server.fifo, [join(dir, 'r1'), victim, victim]);
  await sendConnect(server.fifo, [join(dir, 'r2'), link, link]);
  await waitUntil('both requests refused', () => (server.stderr.match(/cannot open the client's FIFOs/g) ?? []).length >= 2);
  t.regex(server.stderr, /is not a FIFO \(a regular file\)/);
  t.regex(server.stderr, /is not a FIFO \(a symbolic link\)/);
  t.is(await readFile(victim, 'utf8'), 'precious\n');
  t.true((await lstat(link)).isSymbolicLink());
  t.false(existsSync(fifoTarget));
  const next = await startClient(t, server.fifo);
  t.is(await ask(next, 'SUBSCRIBE none', 'subscribe'), '1');
});
