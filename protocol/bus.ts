/**
 * The typed bus between a job's worker thread and the store on the main thread. Messages are
 * msgpackr-encoded into a buffer of their own that is transferred, not copied (the same buffers
 * go back and forth: see `encode`); on arrival they are
 * `unknown` until a guard accepts them. A batch and its results are byte buffers (msgpackr
 * `bin`), laid out by protocol/batch-codec.ts.
 */
// The bare codec: no stream classes, and no native string extractor to load (no strings cross
// the bus: a batch and its results are bytes). A job worker loads this at start-up.
import { Packr } from 'msgpackr/pack';
import { isRecord } from './guards.js';

/** worker -> job actor, which checks it and hands it to the store */
export interface BatchMessage {
  readonly t: 'batch';
  readonly seq: number;
  /** The batch's bytes (protocol/batch-codec.ts). */
  readonly ops: Uint8Array;
}

/** job actor -> worker: the batch's results, sent in batch order once the store applied it */
export interface ResultsMessage {
  readonly t: 'results';
  readonly seq: number;
  /** The batch's results (protocol/batch-codec.ts). */
  readonly results: Uint8Array;
}

/** job actor -> worker, when the supervisor stops the job: finish the command under way, flush the `.out`, and return. */
export interface StopMessage {
  readonly t: 'stop';
}

/** job actor -> worker: the job is stopping, so this batch (and every later one) was not applied. */
export interface RefusedMessage {
  readonly t: 'refused';
  readonly seq: number;
}

/**
 * job actor -> worker: the store failed (Redis gone, a batch refused): no batch from this one on is
 * answered; the worker flushes its `.out` up to the last answered batch and ends in error.
 */
export interface FailedMessage {
  readonly t: 'failed';
  readonly reason: string;
}

export type ToStore = BatchMessage;
export type ToWorker = ResultsMessage | StopMessage | RefusedMessage | FailedMessage;

const packr = new Packr({ useRecords: false });

/** A fresh message buffer has at least this many bytes, so that it can be reused for the next. */
const MESSAGE_BYTES = 1 << 16;

/**
 * Encodes into a buffer of its own, ready to be put in a transfer list: into `reuse` (a buffer
 * that came with an earlier message) when it is large enough, else into a new one. Passing the
 * buffers back and forth keeps each side from making one per message: a job worker makes almost
 * no garbage, so its GC runs rarely, and dead message buffers would pile up until it did.
 */
export function encode(message: ToStore | ToWorker, reuse?: ArrayBuffer, soleUser = false): Uint8Array {
  // msgpackr packs each message after the last one in its buffer, and starts a new buffer when
  // that one is full: in a job worker, which makes little other garbage, those dead buffers
  // piled up (tens of MB each) until a GC. `soleUser`: no other msgpackr user in this thread
  // holds a view of that buffer (the job worker), so packing may start again at its beginning.
  if (soleUser) packr.position = 0;
  // pack() returns a view into msgpackr's reusable buffer: copy it out before transferring.
  const packed = packr.pack(message);
  const target = reuse !== undefined && reuse.byteLength >= packed.length ? reuse : new ArrayBuffer(Math.max(packed.length, MESSAGE_BYTES));
  const bytes = new Uint8Array(target, 0, packed.length);
  bytes.set(packed);
  return bytes;
}

/** The message in `bytes`, or undefined when they hold none: total, so the guards decide, never a throw. */
export function decode(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch {
    return undefined;
  }
}

export function isBatchMessage(value: unknown): value is BatchMessage {
  return isRecord(value) && value['t'] === 'batch' && Number.isInteger(value['seq']) && value['ops'] instanceof Uint8Array;
}

export function isToWorker(value: unknown): value is ToWorker {
  if (!isRecord(value)) return false;
  if (value['t'] === 'stop') return true;
  if (value['t'] === 'refused') return Number.isInteger(value['seq']);
  if (value['t'] === 'failed') return typeof value['reason'] === 'string';
  return value['t'] === 'results' && Number.isInteger(value['seq']) && value['results'] instanceof Uint8Array;
}
