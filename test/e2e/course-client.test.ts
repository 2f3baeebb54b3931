import test from 'ava';
import { type CourseClient, buildCourseClient, startCourseClient } from '../helpers/course-client.js';
import { ask, startClient, startServer, waitUntil, writeJob } from '../helpers/processes.js';

let binary = '';
let removeBinary = async () => {};
test.before(async () => {
  const built = await buildCourseClient();
  binary = built.binary;
  removeBinary = built.remove;
});
test.after.always(() => removeBinary());

/** Sends a line and waits for the n-th response to `op` (counting from 1). */
async function request(client: CourseClient, line: string, op: string, n = 1): Promise<string> {
  const pattern = new RegExp(`Server returned (\\d+) for operation: ${op}\\n`, 'g');
  client.send(line);
  await waitUntil(`response ${n} to ${op} (stdout: ${JSON.stringify(client.stdout)}, stderr: ${JSON.stringify(client.stderr)})`, () => [...client.stdout.matchAll(pattern)].length >= n);
  return [...client.stdout.matchAll(pattern)][n - 1]![1]!;
}

const ORDERS = ['resp,req,notif', 'resp,notif,req', 'req,resp,notif', 'req,notif,resp', 'notif,resp,req', 'notif,req,resp'];

for (const order of ORDERS) {
  test.serial(`the course's C client opening ${order} with blocking opens gets a whole session`, async (t) => {
    const server = await startServer(t, { jobs: { 'test.job': 'WRITE [(key1,value1)]\n' } });
    const client = startCourseClient(t, binary, server.fifo, order);
    await client.waitForOutput('Server returned 0 for operation: connect\n');
    t.is(await request(client, 'SUBSCRIBE [key1]', 'subscribe'), '0');
    await writeJob(server.dir, 'update.job', 'WRITE [(key1,newvalue)]\n');
    await client.waitForOutput('(key1,newvalue)\n');
    t.is(await request(client, 'UNSUBSCRIBE [key1]', 'unsubscribe'), '0');
    t.is(await request(client, 'DISCONNECT', 'disconnect'), '0');
    t.is(await client.waitForExit(), 0, client.stderr);
    t.deepEqual(client.lines(), [
      'Server returned 0 for operation: connect',
      'Server returned 0 for operation: subscribe',
      '(key1,newvalue)',
      'Server returned 0 for operation: unsubscribe',
      'Server returned 0 for operation: disconnect',
    ]);
  });
}

test.serial('clients that read the answer and never open their request FIFO lose their sessions at the deadline', async (t) => {
  const server = await startServer(t, { sessions: 2, jobs: { 'a.job': 'WRITE [(k,1)]\n' } });
  // Both stay alive, holding their response and notification FIFOs open, and never open req.
  const stuck = [0, 1].map(() => startCourseClient(t, binary, server.fifo, 'resp,notif'));
  for (const client of stuck) await client.waitForOutput('Server returned 0 for operation: connect\n');
  const third = await startClient(t, server.fifo);
  t.is(await ask(third, 'SUBSCRIBE k', 'subscribe'), '0');
  const fourth = startCourseClient(t, binary, server.fifo, 'resp,req,notif');
  await fourth.waitForOutput('Server returned 0 for operation: connect\n');
  t.is(await request(fourth, 'SUBSCRIBE k', 'subscribe'), '0');
  t.regex(server.stderr, /did not open its request and notification FIFOs within \d+ ms of the answer/);
  // The server replaces a session that failed, so the third client alone would not show a bug.
  t.notRegex(server.stderr, /session \d+ failed/);
  for (const client of stuck) t.true(client.alive);
});
