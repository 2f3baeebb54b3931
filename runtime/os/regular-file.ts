/**
 * A user's output file (a job's `.out`, a backup's `.bck`) is written only when it is a regular
 * file of its own, or not there yet. A symbolic link may point at any file, a FIFO or a device
 * would block or do something else entirely, and a file with other hard links lives under
 * another name too: each is refused in words and left as it was. One check for both kinds of file.
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, type Stats } from 'node:fs';
import { describeError, errorCode } from '../../protocol/system-errors.js';

/** What a path is, in words, when it is not a regular file. */
function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'something else';
}

function notRegular(path: string, kind: string): Error {
  const how = kind === 'a symbolic link' ? 'refusing to write through it' : 'refusing to write to it';
  return new Error(`${path} is not a regular file (${kind}): ${how}`);
}

/** Throws, in words, unless `stats` (from lstat or fstat) is a regular file with no other name. */
export function checkOwnRegularFile(path: string, stats: Stats): void {
  if (!stats.isFile()) throw notRegular(path, kindOf(stats));
  // Another name for the same file: writing it would change that one too.
  if (stats.nlink > 1) throw new Error(`${path} has ${stats.nlink - 1} other hard link(s): refusing to overwrite a file that lives under another name too`);
}

/**
 * What is at `path` now, checked without opening it: undefined when nothing is, its stats when
 * it is a regular file of its own; anything else throws in words.
 */
export function existingOwnRegularFile(path: string): Stats | undefined {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new Error(`cannot write ${path}: ${describeError(error)}`, { cause: error });
  }
  checkOwnRegularFile(path, stats);
  return stats;
}

/**
 * Opens a path for writing, refusing anything but a regular file without blocking: a plain
 * open of a FIFO would hold the calling thread until a reader came, past any signal.
 */
export function openRegularForWriting(path: string): number {
  let fd: number;
  try {
    // O_NOFOLLOW: a symbolic link is refused, never followed (the file it points at is not ours to overwrite).
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK | constants.O_NOFOLLOW, 0o666);
  } catch (error) {
    switch (errorCode(error)) {
      case 'ENXIO': // a FIFO with no reader
        throw notRegular(path, 'a FIFO');
      case 'ELOOP':
        throw notRegular(path, 'a symbolic link');
      case 'EISDIR':
        throw notRegular(path, 'a folder');
      default:
        // EACCES, ENOSPC, EMFILE...: in words, not as Node's `EACCES: permission denied, open '...'`.
        throw new Error(`cannot write ${path}: ${describeError(error)}`, { cause: error });
    }
  }
  try {
    checkOwnRegularFile(path, fstatSync(fd));
    ftruncateSync(fd, 0);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}
