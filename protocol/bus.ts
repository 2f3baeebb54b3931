/**
 * The typed bus between a job's worker thread and the store on the main thread. Messages are
 * msgpackr-encoded into a fresh buffer that is transferred, not copied; on arrival they are
 * `unknown` until a guard accepts them. A batch and its results are byte buffers (msgpackr
 * `bin`), laid out by protocol/batch-codec.ts.
 */
import { Packr } from 'msgpackr';

export { Op, checkOps, type BusValue } from './batch-codec.js';

/** worker -> store */
export interface BatchMessage {
  readonly t: 'batch';
  readonly seq: number;
  /** The batch's bytes (protocol/batch-codec.ts). */
  readonly ops: Uint8Array;
}

/** store -> worker */
export interface ResultsMessage {
  readonly t: 'results';
  readonly seq: number;
  /** The batch's results (protocol/batch-codec.ts). */
  readonly results: Uint8Array;
}

/** supervisor -> worker: finish the command under way, flush the `.out`, and return. */
export interface StopMessage {
  readonly t: 'stop';
}

/** store -> worker: the job is stopping, so this batch (and every later one) was not applied. */
export interface RefusedMessage {
  readonly t: 'refused';
  readonly seq: number;
}

export type ToStore = BatchMessage;
export type ToWorker = ResultsMessage | StopMessage | RefusedMessage;

const packr = new Packr({ useRecords: false });

/** Encodes into a buffer of its own, ready to be put in a transfer list. */
export function encode(message: ToStore | ToWorker): Uint8Array {
  // pack() returns a view into msgpackr's reusable buffer: copy it out before transferring.
  return new Uint8Array(packr.pack(message));
}

export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isBatchMessage(value: unknown): value is BatchMessage {
  return isRecord(value) && value['t'] === 'batch' && Number.isInteger(value['seq']) && value['ops'] instanceof Uint8Array;
}

export function isToWorker(value: unknown): value is ToWorker {
  if (!isRecord(value)) return false;
  if (value['t'] === 'stop') return true;
  if (value['t'] === 'refused') return Number.isInteger(value['seq']);
  return value['t'] === 'results' && Number.isInteger(value['seq']) && value['results'] instanceof Uint8Array;
}
