/**
 * Messages between the backup coordinator and its child processes, msgpackr-encoded on the
 * child's stdin and stdout. One backup at a time per child: `begin`, any number of `pairs`, `end`.
 */
import { isCompat, type Compat } from './compat.js';
import { isRecord } from './guards.js';

/** Where a backup goes and in which style its lines are written (protocol/output.ts). */
export interface BackupTarget {
  readonly path: string;
  readonly compat: Compat;
}

/** How a backup ended, as the coordinator learns it from the child (or from the child's death). */
export type BackupOutcome = { readonly ok: true; readonly pairs: number } | { readonly ok: false; readonly reason: string };
export interface BackupBegin {
  readonly t: 'begin';
  readonly id: number;
  /** Where the finished `.bck` goes, and the temporary name it is written under first. */
  readonly path: string;
  readonly tmpPath: string;
  readonly compat: Compat;
}

export interface BackupPairs {
  readonly t: 'pairs';
  readonly id: number;
  /** key, value, key, value...; in no order, a key possibly twice with the same value. */
  readonly kv: readonly string[];
}

export interface BackupEnd {
  readonly t: 'end';
  readonly id: number;
}

/** The backup was abandoned before its `end`: drop what was received; nothing is written. */
export interface BackupCancel {
  readonly t: 'cancel';
  readonly id: number;
}

export type ToBackupChild = BackupBegin | BackupPairs | BackupEnd | BackupCancel;

export interface BackupDone {
  readonly t: 'done';
  readonly id: number;
  readonly pairs: number;
}

export interface BackupFailed {
  readonly t: 'failed';
  readonly id: number;
  readonly reason: string;
}

export type FromBackupChild = BackupDone | BackupFailed;

export function isToBackupChild(value: unknown): value is ToBackupChild {
  if (!isRecord(value) || !Number.isInteger(value['id'])) return false;
  switch (value['t']) {
    case 'begin':
      return typeof value['path'] === 'string' && typeof value['tmpPath'] === 'string' && isCompat(value['compat']);
    case 'pairs':
      return Array.isArray(value['kv']);
    case 'end':
    case 'cancel':
      return true;
    default:
      return false;
  }
}

export function isFromBackupChild(value: unknown): value is FromBackupChild {
  if (!isRecord(value) || !Number.isInteger(value['id'])) return false;
  return (value['t'] === 'done' && Number.isInteger(value['pairs'])) || (value['t'] === 'failed' && typeof value['reason'] === 'string');
}
