/**
 * A benchmark helper process (not a test) for bench/subscribe-bench.ts: one raw client on real
 * FIFOs that sends `count` SUBSCRIBEs (keys k0, k1, ...) at once, reads their answers, then
 * DISCONNECTs. argv: <register_fifo> <count>. IPC: 'subscribed' { ms, refused } once every answer
 * came, then 'disconnected' { ms }.
 */
import { FrameReader } from '../protocol/frame-reader.js';
import { encode } from '../protocol/frames.js';
import { createFifos, openOwnWriteEnd, openReadEnd, openWriteEnd, removeFileSync } from '../runtime/os/fifo.js';

const [registerFifo = '', countText = '20000'] = process.argv.slice(2);
const count = Number(countText);
const id = `sub${process.pid}`;
const paths = [`/tmp/req${id}`, `/tmp/resp${id}`, `/tmp/notif${id}`] as const;
process.on('exit', () => paths.forEach((p) => removeFileSync(p)));

await createFifos(paths);
const resp = await openReadEnd(paths[1]);
const notif = await openReadEnd(paths[2]);
notif.resume();
const req = await openOwnWriteEnd(paths[0]);
const reader = new FrameReader('response');
let answers = 0;
let refused = 0;
let want = 1;
let onAnswers: (() => void) | null = null;
resp.on('data', (chunk: Buffer) => {
  for (const r of reader.push(chunk)) {
    if (!r.ok) throw new Error(r.error.message);
    answers++;
    if (r.value.result !== 0) refused++;
  }
  if (answers >= want) onAnswers?.();
});
const answered = (n: number) =>
  new Promise<void>((resolve) => {
    want = n;
    onAnswers = resolve;
    if (answers >= n) resolve();
  });

const register = await openWriteEnd(registerFifo, AbortSignal.timeout(5000));
register.end(encode({ kind: 'connect', reqPipe: paths[0], respPipe: paths[1], notifPipe: paths[2] }));
await answered(1);
const frames = Buffer.concat(Array.from({ length: count }, (_, i) => encode({ kind: 'subscribe', key: `k${i}` })));
let started = process.hrtime.bigint();
req.write(frames);
await answered(1 + count);
process.send?.({ type: 'subscribed', ms: Number(process.hrtime.bigint() - started) / 1e6, refused: refused - 0 });
started = process.hrtime.bigint();
req.write(encode({ kind: 'disconnect' }));
await answered(2 + count);
process.send?.({ type: 'disconnected', ms: Number(process.hrtime.bigint() - started) / 1e6 });
for (const socket of [req, resp, notif]) socket.destroy();
process.exit(0);
