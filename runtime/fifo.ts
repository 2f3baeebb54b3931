/**
 * FIFO helpers. Every open here is non-blocking: a blocking open of a FIFO holds one of libuv's
 * four pool threads until the other side opens (DESIGN.md, measured facts), so write ends retry
 * ENXIO until a deadline instead. A path a client gives us is checked to be a FIFO before and
 * after the open, so a client cannot make the server write into a regular file or a device.
 */
import { execFile } from 'node:child_process';
import { constants as C, closeSync, fstatSync, open, promises as fsp, unlinkSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A path as a client sent it: frames carry bytes, so the server passes a Buffer (a string would
 * be re-encoded as UTF-8 by fs); our own paths are strings.
 */
export type FifoPath = string | Buffer;

/** Owner only: a FIFO of another user's client must not be readable by third parties. */
export const FIFO_MODE = 0o600;

export type FifoErrorCode = 'not-a-fifo' | 'create-failed' | 'open-failed' | 'no-reader' | 'aborted';

export class FifoError extends Error {
  readonly code: FifoErrorCode;
  readonly path: string;
  constructor(code: FifoErrorCode, path: FifoPath, message: string, cause?: unknown) {
    super(`${path}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'FifoError';
    this.code = code;
    this.path = String(path);
  }
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Creates FIFOs with exactly `mode` (mkfifo -m ignores the umask), replacing stale FIFOs or files. */
export async function createFifos(paths: readonly string[], mode = FIFO_MODE): Promise<void> {
  for (const path of paths) {
    const stat = await fsp.lstat(path).catch((error: unknown) => {
      if (errno(error) === 'ENOENT') return null;
      throw new FifoError('create-failed', path, `cannot inspect: ${String(error)}`, error);
    });
    if (stat === null) continue;
    if (stat.isDirectory()) throw new FifoError('create-failed', path, 'is a directory');
    await removeFile(path);
  }
  await new Promise<void>((resolve, reject) => {
    execFile('mkfifo', ['-m', mode.toString(8), '--', ...paths], (error, _stdout, stderr) => {
      if (error === null) resolve();
      else {
        const reason = stderr.trim() || error.message;
        reject(new FifoError('create-failed', paths.join(', '), `cannot create FIFO: ${reason}`, error));
      }
    });
  });
}

/** Removes a file if it is there; used on every exit path, so it never throws for a missing file. */
export async function removeFile(path: string): Promise<void> {
  await fsp.unlink(path).catch((error: unknown) => {
    if (errno(error) !== 'ENOENT') throw error;
  });
}

export function removeFileSync(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error;
  }
}

/** lstat, so a symlink is refused rather than followed. */
export async function assertFifo(path: FifoPath): Promise<void> {
  let stat;
  try {
    stat = await fsp.lstat(path);
  } catch (error) {
    throw new FifoError('open-failed', path, `cannot inspect: ${errno(error) ?? String(error)}`, error);
  }
  if (!stat.isFIFO()) throw new FifoError('not-a-fifo', path, `is not a FIFO (${describe(stat)})`);
}

function describe(stat: { isFile(): boolean; isSymbolicLink(): boolean; isDirectory(): boolean }): string {
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  return 'a device or socket';
}

// O_NOFOLLOW and the fstat after the open close the race between our lstat and the open:
// whatever the path names by then, only a FIFO is ever used.
const SAFE = C.O_NONBLOCK | C.O_NOFOLLOW | C.O_NOCTTY;

/** A read end: O_RDONLY|O_NONBLOCK, no EOF before a writer first appears, 'end' when the last one leaves. */
export async function openReadEnd(path: FifoPath): Promise<net.Socket> {
  const fd = await openFd(path, C.O_RDONLY);
  return new net.Socket({ fd, readable: true, writable: false });
}

/**
 * A client's own request FIFO, opened O_RDWR so the open never waits; the server's read end
 * then sees a writer from its first moment and an EOF when this process dies.
 */
export async function openOwnWriteEnd(path: FifoPath): Promise<net.Socket> {
  const fd = await openFd(path, C.O_RDWR);
  return new net.Socket({ fd, readable: false, writable: true });
}

/**
 * A write end: O_WRONLY|O_NONBLOCK fails with ENXIO until a reader opens, so retry with a short
 * backoff until `signal` aborts. O_WRONLY (not O_RDWR) keeps a dead reader visible as EPIPE.
 */
export async function openWriteEnd(path: FifoPath, signal: AbortSignal): Promise<net.Socket> {
  let delay = 1;
  for (;;) {
    if (signal.aborted) throw new FifoError('aborted', path, 'gave up waiting for a reader', signal.reason);
    try {
      const fd = await openFd(path, C.O_WRONLY);
      if (signal.aborted) {
        closeSync(fd);
        continue;
      }
      return new net.Socket({ fd, readable: false, writable: true });
    } catch (error) {
      if (errno(error) !== 'ENXIO') throw error;
    }
    await sleep(delay, undefined, { signal }).catch(() => undefined);
    delay = Math.min(delay * 2, 16);
  }
}

/**
 * Whether some process has `path` open for reading right now: a write end opened and closed at
 * once. Only for a reader that holds O_RDWR (the registration FIFO): an O_RDONLY reader sees the
 * probe's close as EOF.
 */
export async function hasReader(path: FifoPath): Promise<boolean> {
  try {
    closeSync(await openFd(path, C.O_WRONLY));
    return true;
  } catch (error) {
    if (errno(error) === 'ENXIO' || errno(error) === 'ENOENT') return false;
    throw error;
  }
}

/** A bare fd (not a FileHandle, which would close it when collected): the socket owns it. */
async function openFd(path: FifoPath, flags: number): Promise<number> {
  await assertFifo(path);
  const fd = await new Promise<number>((resolve, reject) => {
    open(path, flags | SAFE, (error, fd) => (error === null ? resolve(fd) : reject(error)));
  });
  if (fstatSync(fd).isFIFO()) return fd;
  closeSync(fd);
  throw new FifoError('not-a-fifo', path, 'is not a FIFO once opened');
}

/** The server's end of the registration FIFO: O_RDWR so it never sees EOF between clients. */
export async function openRegistrationEnd(path: FifoPath): Promise<net.Socket> {
  const fd = await openFd(path, C.O_RDWR);
  return new net.Socket({ fd, readable: true, writable: false });
}
