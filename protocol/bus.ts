/**
 * The typed bus between a job's worker thread and the store on the main thread. Each message is
 * a buffer of its own that is transferred, not copied (the same buffers go back and forth: see
 * `encode`), laid out as a kind byte, a sequence number and the kind's body (a batch or its
 * results, bytes laid out by protocol/batch-codec.ts; a failure's reason as UTF-8). On arrival a
 * message is `unknown` until a guard accepts it.
 *
 * A fixed layout rather than a general codec: four message kinds need no more, and a job worker
 * thread then loads no codec library at its start (msgpackr was half of its code).
 */
import { assertNever, isRecord } from './guards.js';

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

/** The kind byte that starts each message. */
const Kind = { batch: 1, results: 2, stop: 3, refused: 4, failed: 5 } as const;
/** The kind byte, then the sequence number as a float64 (any safe integer), little-endian. */
const SEQ_OFFSET = 1;
const HEADER_BYTES = SEQ_OFFSET + 8;

/** A fresh message buffer has at least this many bytes, so that it can be reused for the next. */
const MESSAGE_BYTES = 1 << 16;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Encodes into a buffer of its own, ready to be put in a transfer list: into `reuse` (a buffer
 * that came with an earlier message) when it is large enough, else into a new one. Passing the
 * buffers back and forth keeps each side from making one per message: a job worker makes almost
 * no garbage, so its GC runs rarely, and dead message buffers would pile up until it did.
 */
export function encode(message: ToStore | ToWorker, reuse?: ArrayBuffer): Uint8Array {
  let kind: number;
  let seq = 0;
  let body: Uint8Array | null = null;
  switch (message.t) {
    case 'batch':
      [kind, seq, body] = [Kind.batch, message.seq, message.ops];
      break;
    case 'results':
      [kind, seq, body] = [Kind.results, message.seq, message.results];
      break;
    case 'stop':
      kind = Kind.stop;
      break;
    case 'refused':
      [kind, seq] = [Kind.refused, message.seq];
      break;
    case 'failed':
      [kind, body] = [Kind.failed, utf8Encoder.encode(message.reason)];
      break;
    default:
      return assertNever(message);
  }
  const length = HEADER_BYTES + (body?.length ?? 0);
  const target = reuse !== undefined && reuse.byteLength >= length ? reuse : new ArrayBuffer(Math.max(length, MESSAGE_BYTES));
  const bytes = new Uint8Array(target, 0, length);
  bytes[0] = kind;
  new DataView(target).setFloat64(SEQ_OFFSET, seq, true);
  if (body !== null) bytes.set(body, HEADER_BYTES);
  return bytes;
}

/** The message in `bytes` (its body a view of them), or null when they hold none: never throws. */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.length < HEADER_BYTES) return null;
  const seq = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(SEQ_OFFSET, true);
  const body = bytes.subarray(HEADER_BYTES);
  switch (bytes[0]) {
    case Kind.batch:
      return { t: 'batch', seq, ops: body };
    case Kind.results:
      return { t: 'results', seq, results: body };
    case Kind.stop:
      return { t: 'stop' };
    case Kind.refused:
      return { t: 'refused', seq };
    case Kind.failed:
      return { t: 'failed', reason: utf8Decoder.decode(body) };
    default:
      return null;
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
