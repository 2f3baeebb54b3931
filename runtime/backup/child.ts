/**
 * A backup child process: long-lived, reused, one backup at a time. It receives a snapshot's
 * pairs in chunks (unsorted, a key possibly twice), sorts them by key bytes, writes the `.bck`
 * under a temporary name of its own (stale-temps.ts), fsyncs, and renames it into place, so a
 * `.bck` is never seen half written. An existing `.bck` is replaced only when it is a regular file
 * of its own (as a job's `.out`, runtime/os/regular-file.ts), and keeps its mode. It exits when its stdin closes (the coordinator closed it, or the parent died).
 * With the store on Redis it is sent a `copy` instead: it reads the snapshot copy from Redis
 * itself (HSCAN, on a connection of its own), drops it (UNLINK), and writes the file the same way.
 *
 * It reads no test switch: tests trace a backup and hold one in progress from outside, at its
 * stdin and at the `renameSync` of its temporary file (test/helpers/backup-hooks-preload.ts).
 */
import { closeSync, fchmodSync, fsyncSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { setPriority } from 'node:os';
import { PackrStream, UnpackrStream } from 'msgpackr';
import { isToBackupChild, type BackupBegin, type BackupCopy, type FromBackupChild } from '../../protocol/backup-messages.js';
import { errorMessage } from '../../protocol/guards.js';
import { compareKeys } from '../../protocol/keys.js';
import { describeError, errorCode } from '../../protocol/system-errors.js';
import { formatPair } from '../../protocol/output.js';
import { writeAll } from '../os/write-all.js';
import { existingOwnRegularFile } from '../os/regular-file.js';
import { createTemp } from './stale-temps.js';

/**
 * Like the job workers, a backup yields the CPU to the store: the store's thread streams the
 * snapshot a chunk a turn, and on two cores a busy child would stretch the jobs' pauses.
 */
const NICENESS = 5;
try {
  setPriority(NICENESS);
} catch {
  // Not allowed here: the child shares the CPU evenly, which only makes the pauses longer.
}

const replies = new PackrStream({ useRecords: false });
replies.pipe(process.stdout);
// EPIPE: the coordinator is gone, so nobody waits for this backup's reply.
process.stdout.on('error', () => process.exit(1));
const reply = (message: FromBackupChild) => replies.write(message);

let current: { begin: BackupBegin; keys: string[]; values: string[] } | null = null;
let work = Promise.resolve();

const requests = process.stdin.pipe(new UnpackrStream({ useRecords: false }));
requests.on('error', (error: Error) => {
  process.stderr.write(`backup child: malformed bytes from the coordinator: ${error.message}\n`);
  process.exit(2);
});
requests.on('data', (message: unknown) => {
  if (!isToBackupChild(message)) {
    process.stderr.write('backup child: malformed message from the coordinator\n');
    process.exit(2);
  }
  switch (message.t) {
    case 'begin':
      current = { begin: message, keys: [], values: [] };
      break;
    case 'pairs':
      if (current === null || current.begin.id !== message.id) break;
      for (let i = 0; i < message.kv.length; i += 2) {
        current.keys.push(message.kv[i]!);
        current.values.push(message.kv[i + 1]!);
      }
      break;
    case 'copy': {
      const copy = message;
      work = work.then(() => finishCopy(copy));
      break;
    }
    case 'cancel':
      if (current !== null && current.begin.id === message.id) current = null;
      break;
    case 'end': {
      const finished = current;
      current = null;
      if (finished === null || finished.begin.id !== message.id) break;
      // Backups run one after another; chaining keeps a slow disk from reordering replies.
      work = work.then(() => finish(finished.begin, finished.keys, finished.values));
      break;
    }
  }
});

/** A copy on Redis: read it (loading the Redis client only when a backup needs it), then as `finish`. */
async function finishCopy(copy: BackupCopy): Promise<void> {
  const begin: BackupBegin = { t: 'begin', id: copy.id, path: copy.path, compat: copy.compat };
  let pairs: { keys: string[]; values: string[] };
  try {
    const { readRemotePairs } = await import('../redis/snapshot.js');
    pairs = await readRemotePairs(copy);
  } catch (error) {
    reply({ t: 'failed', id: copy.id, reason: errorMessage(error) });
    return;
  }
  finish(begin, pairs.keys, pairs.values, copy.pairs);
}

/** Writes one backup and replies; never throws (a failure is the reply, in words). */
function finish(begin: BackupBegin, keys: string[], values: string[], expected?: number): void {
  let tmpPath: string | undefined;
  try {
    // Refused before any work: a `.bck` that is a link, a FIFO, a device or a file with other names.
    const existing = existingOwnRegularFile(begin.path);
    const temp = createTemp(dirname(begin.path));
    tmpPath = temp.path;
    const count = writeSorted(temp.fd, begin, keys, values, existing?.mode);
    // Never a short backup: a copy that expired or was deleted under the reader holds fewer pairs.
    if (expected !== undefined && count !== expected) {
      throw new Error(`snapshot copy holds ${count} pairs, ${expected} were copied (expired or deleted under the reader?)`);
    }
    renameSync(tmpPath, begin.path);
    reply({ t: 'done', id: begin.id, pairs: count });
  } catch (error) {
    // Only the file this backup created is removed; a name it found taken was never its own.
    if (tmpPath !== undefined) {
      try {
        rmSync(tmpPath, { force: true });
      } catch {
        // Left behind: the next run's stale-temp cleanup removes it (this pid will be gone).
      }
    }
    // A system error in words ('permission denied'); the temporary file's name is ours, not the user's.
    reply({ t: 'failed', id: begin.id, reason: errorCode(error) === undefined ? errorMessage(error) : describeError(error) });
  }
}

/**
 * Writes the pairs sorted by key, each key once, to `fd` (closed on return), with `mode` when the
 * `.bck` it replaces had one (a `chmod 600` backup stays 600); returns how many were written.
 */
function writeSorted(fd: number, begin: BackupBegin, keys: string[], values: string[], mode: number | undefined): number {
  try {
    const order = Array.from(keys.keys());
    order.sort((a, b) => compareKeys(keys[a]!, keys[b]!));
    let text = '';
    let written = 0;
    let previous: string | undefined;
    for (const i of order) {
      const key = keys[i]!;
      if (key === previous) continue;
      previous = key;
      text += formatPair(key, values[i]!, begin.compat);
      written++;
      if (text.length >= 1 << 16) {
        writeAll(fd, Buffer.from(text, 'latin1'));
        text = '';
      }
    }
    writeAll(fd, Buffer.from(text, 'latin1'));
    if (mode !== undefined) fchmodSync(fd, mode & 0o777);
    fsyncSync(fd);
    return written;
  } finally {
    closeSync(fd);
  }
}

// The coordinator closed our stdin (or died): finish what is under way, then leave.
requests.on('end', () => void work.then(() => process.exit(0)));
