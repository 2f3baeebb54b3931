/**
 * The data's figures (`@kvs.figures`, sent by a program run with --inspect) are the live view's:
 * the relay passes them to the live view, tagged with their run, and not to the Stately inspector,
 * whose stream stays the inspector's own messages.
 */
import test from 'ava';
import WebSocket from 'ws';
import { startRelay } from '../helpers/inspector-relay.js';

function open(t: import('ava').ExecutionContext, url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  t.teardown(() => socket.terminate());
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

test('figures go to the live view with their run, not to the Stately inspector', async (t) => {
  const relay = await startRelay(t);
  const live = await open(t, `${relay.url}/live`);
  const seenLive: Array<{ type: string; kvsRun?: string; keys?: number }> = [];
  live.on('message', (data) => seenLive.push(JSON.parse(String(data))));
  const program = await open(t, relay.url);
  const actor = (name: string) => JSON.stringify({ type: '@xstate.actor', name, sessionId: name, createdAt: String(Date.now()), snapshot: { status: 'active' } });
  program.send(actor('first'));
  program.send(JSON.stringify({ type: '@kvs.figures', createdAt: Date.now(), keys: 3, commandsPerSecond: 10, backupsRunning: 1, backupsWaiting: 0 }));
  program.send(actor('last'));
  await relay.waitFor((messages) => messages.some((message) => message.name === 'last'), 30_000);
  t.deepEqual(relay.messages.map((message) => message.type), ['@xstate.actor', '@xstate.actor'], 'the inspector gets its own messages only');
  const deadline = Date.now() + 30_000;
  while (!seenLive.some((message) => message.type === '@kvs.figures') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const figures = seenLive.find((message) => message.type === '@kvs.figures');
  t.is(figures?.keys, 3, JSON.stringify(seenLive));
  t.is(typeof figures?.kvsRun, 'string', 'tagged with its run');
});
