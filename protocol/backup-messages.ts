/**
 * Messages between the backup coordinator and its child processes, msgpackr-encoded on the
 * child's stdin and stdout. One backup at a time per child: `begin`, any number of `pairs`, `end`
 * (a snapshot held in the parent's memory), or one `copy` (a snapshot the child reads from Redis).
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
  /** Where the finished `.bck` goes (the child picks the temporary name it is written under first). */
  readonly path: string;
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

/** A snapshot copy on Redis: the child reads it (HSCAN), writes the file, and drops it (UNLINK). */
export interface BackupCopy {
  readonly t: 'copy';
  readonly id: number;
  readonly path: string;
  readonly compat: Compat;
  /** The store's URL (credentials included: it goes only to our own child, over its pipe). */
  readonly url: string;
  readonly key: string;
  /** Pairs the copy held when made: a copy that holds fewer (it expired) fails the backup. */
  readonly pairs: number;
}

export type ToBackupChild = BackupBegin | BackupPairs | BackupEnd | BackupCancel | BackupCopy;

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
      return typeof value['path'] === 'string' && isCompat(value['compat']);
    case 'pairs':
      return Array.isArray(value['kv']);
    case 'end':
    case 'cancel':
      return true;
    case 'copy':
      return (
        typeof value['path'] === 'string' &&
        isCompat(value['compat']) &&
        typeof value['url'] === 'string' &&
        typeof value['key'] === 'string' &&
        Number.isInteger(value['pairs'])
      );
    default:
      return false;
  }
}

export function isFromBackupChild(value: unknown): value is FromBackupChild {
  if (!isRecord(value) || !Number.isInteger(value['id'])) return false;
  return (value['t'] === 'done' && Number.isInteger(value['pairs'])) || (value['t'] === 'failed' && typeof value['reason'] === 'string');
}
