/**
 * A benchmark helper process (not a test): hosts several raw clients on real FIFOs, each
 * subscribed to one key, and measures how long each notification took. The value of every
 * notification is the writer's process.hrtime.bigint() (CLOCK_MONOTONIC, the same clock in every
 * process), so latency is the reader's clock minus the value.
 *
 * argv: <register_fifo> <clients> <id_prefix> <key>. IPC: sends 'ready'; on { type: 'reset' }
 * clears its figures; on { type: 'expect', count } answers 'done' with the figures once every
 * client has received `count` notifications since the reset.
 */
import type net from 'node:net';
import { FrameReader } from '../protocol/frame-reader.js';
import { encode } from '../protocol/frames.js';
import { createFifos, openOwnWriteEnd, openReadEnd, openWriteEnd, removeFileSync } from '../runtime/os/fifo.js';

const [registerFifo = '', clientsText = '1', prefix = 'b', key = 'bench'] = process.argv.slice(2);
const clients = Number(clientsText);

type BenchClient = { received: number; paths: string[]; sockets: net.Socket[] };
const all: BenchClient[] = [];
let latenciesUs: number[] = [];
let lastAt = 0n;
let expected: number | null = null;
const connectUs: number[] = [];

function send(message: unknown): void {
  process.send?.(message);
}

function checkDone(): void {
  if (expected === null || !all.every((c) => c.received >= expected!)) return;
  expected = null;
  send({ type: 'done', latenciesUs, lastAt: String(lastAt), connectUs });
}

function readResponse(reader: FrameReader<'response'>, socket: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      for (const r of reader.push(chunk)) {
        socket.off('data', onData);
        if (r.ok) resolve(r.value.result);
        else reject(new Error(r.error.message));
        return;
      }
    };
    socket.on('data', onData);
  });
}

async function connectOne(n: number): Promise<void> {
  const id = `${prefix}${process.pid}x${n}`;
  const paths = [`/tmp/req${id}`, `/tmp/resp${id}`, `/tmp/notif${id}`] as const;
  await createFifos(paths);
  const resp = await openReadEnd(paths[1]);
  const notif = await openReadEnd(paths[2]);
  const req = await openOwnWriteEnd(paths[0]);
  const client: BenchClient = { received: 0, paths: [...paths], sockets: [req, resp, notif] };
  const responses = new FrameReader('response');
  const register = await openWriteEnd(registerFifo, AbortSignal.timeout(5000));
  const connected = readResponse(responses, resp);
  const started = process.hrtime.bigint();
  register.end(encode({ kind: 'connect', reqPipe: paths[0], respPipe: paths[1], notifPipe: paths[2] }));
  if ((await connected) !== 0) throw new Error('connect refused');
  connectUs.push(Number(process.hrtime.bigint() - started) / 1000);
  const subscribed = readResponse(responses, resp);
  req.write(encode({ kind: 'subscribe', key }));
  if ((await subscribed) !== 0) throw new Error(`subscribe ${key} refused`);
  const notifications = new FrameReader('notification');
  notif.on('data', (chunk: Buffer) => {
    const now = process.hrtime.bigint();
    for (const r of notifications.push(chunk)) {
      if (!r.ok) throw new Error(r.error.message);
      client.received++;
      // A DELETE's notification carries no time (BENCH_DELETE_EVERY).
      if (r.value.value !== 'DELETED') latenciesUs.push(Number(now - BigInt(r.value.value)) / 1000);
      lastAt = now;
    }
    checkDone();
  });
  all.push(client);
}

process.on('message', (message: { type: string; count?: number }) => {
  if (message.type === 'reset') {
    latenciesUs = [];
    for (const c of all) c.received = 0;
    send({ type: 'reset' });
  } else if (message.type === 'expect') {
    expected = message.count ?? 0;
    checkDone();
  } else if (message.type === 'exit') {
    for (const c of all) for (const s of c.sockets) s.destroy();
    process.exit(0);
  }
});
process.on('exit', () => all.forEach((c) => c.paths.forEach((p) => removeFileSync(p))));

// One at a time: connect latency is then the server's, not a queue behind S sessions.
for (let n = 0; n < clients; n++) await connectOne(n);
send({ type: 'ready' });
