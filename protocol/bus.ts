/**
 * The typed bus between a job's worker thread and the store on the main thread. Messages are
 * msgpackr-encoded into a fresh buffer that is transferred, not copied; on arrival they are
 * `unknown` until a guard accepts them.
 *
 * A batch's operations are one flat array, so that a batch of thousands of commands costs one
 * message and no per-command objects on the main thread:
 *   WRITE  [Op.Write, n, k1, v1, ... kn, vn]    -> no result
 *   READ   [Op.Read, n, k1 ... kn]              -> n results: the value, or null when missing
 *   DELETE [Op.Delete, n, k1 ... kn]            -> m, then the m keys that were missing
 *   SHOW   [Op.Show]                            -> 2p, then key, value ... (in no order)
 *   BACKUP [Op.Backup, number]                  -> no result
 *
 * What a batch can produce is bounded: a SHOW or a BACKUP ends its batch, and a worker has at
 * most one SHOW in flight, so a job holds at most one copy of the store's pairs at a time.
 */
import { Packr } from 'msgpackr';
import { isRecord } from './guards.js';

export const Op = { Write: 1, Read: 2, Delete: 3, Show: 4, Backup: 5 } as const;
export type Op = (typeof Op)[keyof typeof Op];

export type BusValue = string | number | null;

/** worker -> store */
export interface BatchMessage {
  readonly t: 'batch';
  readonly seq: number;
  readonly ops: readonly BusValue[];
}

/** store -> worker */
export interface ResultsMessage {
  readonly t: 'results';
  readonly seq: number;
  readonly results: readonly BusValue[];
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

/** The number of the BACKUP that ends a checked batch, or null when it ends with something else. */
export function trailingBackup(ops: readonly BusValue[]): number | null {
  // After a count come that many strings, so a number just after Op.Backup can only be its n.
  const n = ops[ops.length - 1];
  return ops.length >= 2 && ops[ops.length - 2] === Op.Backup && typeof n === 'number' ? n : null;
}

export function isBatchMessage(value: unknown): value is BatchMessage {
  return isRecord(value) && value['t'] === 'batch' && Number.isInteger(value['seq']) && Array.isArray(value['ops']);
}

export function isToWorker(value: unknown): value is ToWorker {
  if (!isRecord(value)) return false;
  if (value['t'] === 'stop') return true;
  if (value['t'] === 'refused') return Number.isInteger(value['seq']);
  return value['t'] === 'results' && Number.isInteger(value['seq']) && Array.isArray(value['results']);
}

/**
 * Checks the shape of a batch's operations before any of them is applied, so a malformed batch
 * is refused whole. Returns the reason, or null when the batch is well formed.
 */
export function checkOps(ops: readonly unknown[]): string | null {
  let i = 0;
  while (i < ops.length) {
    const op = ops[i];
    if (op === Op.Show) {
      i += 1;
      continue;
    }
    const n = ops[i + 1];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return `operation at ${i}: bad count`;
    if (op === Op.Backup) {
      // A BACKUP ends its batch: the job waits there for a free backup slot.
      if (i + 2 !== ops.length) return `operation at ${i}: BACKUP not at the end of its batch`;
      i += 2;
      continue;
    }
    const width = op === Op.Write ? 2 * n : op === Op.Read || op === Op.Delete ? n : -1;
    if (width < 0) return `operation at ${i}: unknown op ${String(op)}`;
    const last = i + 2 + width;
    if (last > ops.length) return `operation at ${i}: truncated`;
    for (let j = i + 2; j < last; j++) if (typeof ops[j] !== 'string') return `operation at ${i}: not a string`;
    i = last;
  }
  return null;
}
