/**
 * The inspector's relay is for this machine's user: a WebSocket from another web page (an Origin
 * that is not the relay's own) is refused with 403; a message bigger than an inspection event can
 * be closes its connection; what is kept for late browsers is bounded in bytes. Real relay
 * processes and real ws clients; each relay is stopped in t.teardown.
 */
import test from 'ava';
import WebSocket from 'ws';
import { startRelay } from '../helpers/inspector-relay.js';
import { MAX_KEPT_ACTORS, MAX_KEPT_OTHERS, MAX_MESSAGE_BYTES } from '../../scripts/relay-limits.js';

/** 'open', or the HTTP status of a refused handshake, for a connection with these headers. */
function handshake(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.terminate();
      resolve('open');
    });
    socket.once('unexpected-response', (_request, response) => {
      socket.terminate();
      resolve(String(response.statusCode));
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

function opened(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => socket.once('open', () => resolve(socket)).once('error', reject));
}

test('a WebSocket from another origin is refused with 403; a program and the relay\'s own pages are accepted', async (t) => {
  const relay = await startRelay(t);
  const port = new URL(relay.url).port;
  t.is(await handshake(relay.url, {}), 'open', 'no Origin: a program');
  for (const own of [`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://LOCALHOST:${port}`]) {
    t.is(await handshake(relay.url, { Origin: own }), 'open', own);
  }
  for (const evil of ['https://evil.example', `http://evil.example:${port}`, `http://localhost:${Number(port) + 1}`, 'null']) {
    t.is(await handshake(relay.url, { Origin: evil }), '403', evil);
    // Same with the Host a rebinding DNS name would send.
    t.is(await handshake(relay.url, { Origin: evil, Host: new URL(evil.startsWith('http') ? evil : 'http://x').host }), '403', `${evil} with its own Host`);
  }
  // The refused connections saw nothing and injected nothing: a program's events still reach a viewer.
  const program = await opened(relay.url);
  t.teardown(() => program.terminate());
  program.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'after' } }));
  await relay.waitFor((messages) => messages.some((m) => m.event?.type === 'after'));
  t.deepEqual(
    relay.messages.map((m) => m.event?.type),
    ['after'],
  );
});

test('a message bigger than an inspection event closes its connection (1009) and is not relayed', async (t) => {
  const relay = await startRelay(t);
  const program = await opened(relay.url);
  t.teardown(() => program.terminate());
  const closed = new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => resolve(`still open after 30 s; the relay passed on ${relay.messages.length} message(s)`), 30_000);
    program.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  program.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'big', pad: 'x'.repeat(MAX_MESSAGE_BYTES) } }));
  t.is(await closed, 1009);
  // The relay goes on: the next program's events are relayed, the big one never was.
  const next = await opened(relay.url);
  t.teardown(() => next.terminate());
  next.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:0', event: { type: 'small' } }));
  await relay.waitFor((messages) => messages.some((m) => m.event?.type === 'small'));
  t.deepEqual(
    relay.messages.map((m) => m.event?.type),
    ['small'],
  );
});

for (const [type, limit] of [
  ['@xstate.actor', MAX_KEPT_ACTORS],
  ['@xstate.event', MAX_KEPT_OTHERS],
] as const) {
  test(`what a late browser is replayed of ${type} messages is bounded in bytes, and is the newest`, async (t) => {
    const relay = await startRelay(t);
    const program = await opened(relay.url);
    t.teardown(() => program.terminate());
    // Messages just under the size limit: fewer than the count bound, more bytes than the byte bound.
    const pad = 'x'.repeat(MAX_MESSAGE_BYTES - 200);
    const sent = Math.ceil(limit.bytes / pad.length) + 4;
    t.true(sent < limit.count, `${sent} messages are under the count bound`);
    for (let i = 0; i < sent; i++) {
      program.send(JSON.stringify({ type, sessionId: `x:${i}`, event: { type: `e${i}` }, pad }));
      // One at a time: the test's own receiver must keep up (the relay drops a browser that does not).
      await relay.waitFor((messages) => messages.length === i + 1);
    }

    const late = new WebSocket(relay.url);
    t.teardown(() => late.terminate());
    const replayed: string[] = [];
    late.on('message', (data) => replayed.push(String(data)));
    await new Promise((resolve, reject) => late.once('open', resolve).once('error', reject));
    // A marker after the replay: everything before it was the replay.
    const marker = await opened(relay.url);
    t.teardown(() => marker.terminate());
    marker.send(JSON.stringify({ type: '@xstate.event', sessionId: 'marker', event: { type: 'marker' } }));
    const deadline = Date.now() + 60_000;
    while (!replayed.some((text) => text.includes('"marker"'))) {
      if (Date.now() > deadline) throw new Error(`no marker after ${replayed.length} replayed messages`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const replay = replayed.slice(0, -1);
    const bytes = replay.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    t.true(bytes <= limit.bytes, `replayed ${bytes} bytes, at most ${limit.bytes}`);
    const ids = replay.map((text) => Number(/"sessionId":"x:(\d+)"/.exec(text)?.[1]));
    t.true(replay.length > 0 && replay.length < sent, `replayed ${replay.length} of ${sent}`);
    t.deepEqual(ids, Array.from({ length: replay.length }, (_, i) => sent - replay.length + i), 'the newest, in order');
  });
}
