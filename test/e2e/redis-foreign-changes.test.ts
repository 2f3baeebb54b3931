/**
 * The change channel is a plain Redis pub/sub channel: any client of that Redis can PUBLISH on it.
 * A message that is framed like a change but whose key or value no kvs command could write (longer
 * than 40 bytes, empty, with a blank or a reserved character) is not a change: the host ignores
 * it, as it ignores any other foreign message, and its clients go on being notified of the real
 * changes. Before, such a message ended the server with an uncaught RangeError. Real redis-server,
 * real server and client processes, all stopped in t.teardown.
 */
import test from 'ava';
import { startClient, startServer, writeJob } from '../helpers/processes.js';
import { startRedis, rawRedis } from '../helpers/redis-server.js';
import { encodeOps } from '../helpers/flat-batch.js';
import { Op } from '../../protocol/batch-codec.js';

/** A WRITE of one pair, laid out as the script publishes changes (a batch of WRITEs and DELETEs). */
function write(key: string, value: string): Buffer {
  return Buffer.from(encodeOps([Op.Write, 1, key, value]));
}

test('a change no command could make, published by someone else, is ignored: the server and its clients carry on', async (t) => {
  const redis = await startRedis(t);
  const server = await startServer(t, { args: ['--store', redis.url], jobs: { 'init.job': 'WRITE [(k,0)]\n' } });
  const client = await startClient(t, server.fifo);
  client.send('SUBSCRIBE k');
  await client.waitForOutput('Server returned 0 for operation: subscribe');

  const other = await rawRedis(t, redis);
  const channel = '{kvs}:changes@0';
  for (const message of [write('k', 'x'.repeat(41)), write('k', ''), write('k', 'a b'), write('k', 'a(b'), write('k', 'DELETED'), write('x'.repeat(41), 'v')]) {
    t.is(await other.publish(channel, message), 1, 'the host is subscribed');
  }
  await writeJob(server.dir, 'after.job', 'WRITE [(k,real)]\n');
  await client.waitForOutput('(k,real)');
  t.true(server.alive, server.stderr);
  t.deepEqual(client.lines().slice(2), ['(k,real)'], 'only the real change was notified');
});
