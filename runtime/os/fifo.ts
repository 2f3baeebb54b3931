/**
 * FIFO helpers. Every open here is non-blocking: a blocking open of a FIFO holds one of libuv's
 * four pool threads until the other side opens (docs/DESIGN.md, measured facts), so write ends retry
 * ENXIO until a deadline instead. A path a client gives us is checked to be a FIFO before and
 * after the open, so a client cannot make the server write into a regular file or a device.
 */
import { execFile } from 'node:child_process';
import { constants as C, closeSync, fstatSync, lstatSync, open, promises as fsp, readSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../protocol/system-errors.js';
import { LINK_REFUSED } from '../../protocol/session-link.js';
import { TRACE_LINKS, traceLink } from '../observe/debug.js';

/**
 * A path as a client sent it: frames carry bytes, so the server passes a Buffer (a string would
 * be re-encoded as UTF-8 by fs); our own paths are strings.
 */
export type FifoPath = string | Buffer;

/** Owner only: a FIFO of another user's client must not be readable by third parties. */
export const FIFO_MODE = 0o600;

/** `refused` is the session link's LINK_REFUSED: a FIFO the server or another session uses. */
export type FifoErrorCode = 'not-a-fifo' | 'missing' | 'in-use' | typeof LINK_REFUSED | 'create-failed' | 'open-failed' | 'no-reader' | 'aborted';

export class FifoError extends Error {
  readonly code: FifoErrorCode;
  readonly path: string;
  /** The message without the path, for a caller that names the path itself. */
  readonly reason: string;
  constructor(code: FifoErrorCode, path: FifoPath, message: string, cause?: unknown) {
    super(`${path}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'FifoError';
    this.code = code;
    this.path = String(path);
    this.reason = message;
  }
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/** Why a path cannot be looked at, in a user's words (not `ENOTDIR`). */
function unusable(error: unknown): string {
  switch (errno(error)) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'cannot be used: a part of its path is not a folder';
    case 'EACCES':
      return 'cannot be used: permission denied on a folder of its path';
    case 'ENAMETOOLONG':
      return 'cannot be used: the path or one of its names is too long';
    case 'ELOOP':
      return 'cannot be used: too many symbolic links in its path';
    default:
      return `cannot be used: ${describeError(error)}`;
  }
}

/** A file's identity (a FIFO's, or the jobs folder's): paths can be renamed or linked, a (device, inode) pair cannot. */
export type FileId = { dev: number; ino: number };

export function sameFile(a: FileId, b: FileId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

export type CreateFifoOptions = {
  mode?: number;
  /**
   * Whether an existing FIFO at `path` is in use by a live process (then it is refused); a FIFO
   * nobody uses is stale and replaced. Without it, every existing FIFO is taken as stale.
   */
  inUse?: (path: string) => Promise<string | null>;
};

/**
 * Creates FIFOs with exactly `mode` (mkfifo -m ignores the umask). A path that exists and is not a
 * FIFO (regular file, symlink, directory, device) is refused and left untouched; an existing FIFO
 * is replaced only when `inUse` says it is stale. Returns the identity of each FIFO created, so
 * that the caller removes only what it made.
 */
export async function createFifos(paths: readonly string[], options: CreateFifoOptions = {}): Promise<FileId[]> {
  const stale: Array<{ path: string; id: FileId }> = [];
  for (const path of paths) {
    const stat = await fsp.lstat(path).catch((error: unknown) => {
      if (errno(error) === 'ENOENT') return null;
      throw new FifoError('create-failed', path, unusable(error), error);
    });
    if (stat === null) continue;
    if (!stat.isFIFO()) throw new FifoError('not-a-fifo', path, `exists and is not a FIFO (it is ${fileKind(stat)}); it is left as it is`);
    const user = (await options.inUse?.(path)) ?? null;
    if (user !== null) throw new FifoError('in-use', path, user);
    stale.push({ path, id: { dev: stat.dev, ino: stat.ino } });
  }
  for (const { path, id } of stale) {
    // Only the very FIFO found stale: a path swapped for something else meanwhile is not ours to remove.
    const now = await fsp.lstat(path).catch(() => null);
    if (now !== null && now.isFIFO() && sameFile(now, id)) await removeFile(path);
  }
  const mode = options.mode ?? FIFO_MODE;
  await new Promise<void>((resolve, reject) => {
    execFile('mkfifo', ['-m', mode.toString(8), '--', ...paths], (error, _stdout, stderr) => {
      if (error === null) resolve();
      else {
        // mkfifo's own line repeats the path: "mkfifo: cannot create fifo 'P': No such file or
        // directory". Keep the reason, and the path only when there were several.
        const lines = stderr.trim().split('\n').filter((line) => line !== '');
        const reasons = lines.map((line) => /^mkfifo: cannot create fifo '(.*)': (.*)$/.exec(line));
        const reason =
          lines.length === 0 ? error.message
          : reasons.every((m) => m !== null) ? reasons.map((m) => (paths.length === 1 ? m![2]! : `${m![1]}: ${m![2]}`)).join('; ')
          : lines.join('; ');
        reject(new FifoError('create-failed', paths.join(', '), `cannot create FIFO: ${reason}`, error));
      }
    });
  });
  return Promise.all(paths.map((path) => fifoId(path)));
}

/** The identity of the FIFO at `path` (lstat: a symlink is refused, not followed). */
export async function fifoId(path: FifoPath): Promise<FileId> {
  let stat;
  try {
    stat = await fsp.lstat(path);
  } catch (error) {
    if (errno(error) === 'ENOENT') throw new FifoError('missing', path, unusable(error), error);
    throw new FifoError('open-failed', path, unusable(error), error);
  }
  if (!stat.isFIFO()) throw new FifoError('not-a-fifo', path, `is not a FIFO (${fileKind(stat)})`);
  return { dev: stat.dev, ino: stat.ino };
}

/** Removes the FIFO at `path` if it is still the one we created (same identity); never anything else. */
export function removeOwnFifoSync(path: string, id: FileId): void {
  try {
    const stat = lstatSync(path);
    if (stat.isFIFO() && sameFile(stat, id)) unlinkSync(path);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error;
  }
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
  await fifoId(path);
}

function fileKind(stat: { isFile(): boolean; isSymbolicLink(): boolean; isDirectory(): boolean }): string {
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a directory';
  return 'a device or socket';
}

/** A socket that owns `fd` from now on (it closes it when destroyed). */
function fifoSocket(fd: number, path: FifoPath, readable: boolean): net.Socket {
  const socket = new net.Socket({ fd, readable, writable: !readable });
  if (TRACE_LINKS) socket.once('close', () => traceLink(`fd ${fd} ${String(path)}: closed`));
  return socket;
}

/** closeSync for a descriptor that no socket owns yet. */
function closeRaw(fd: number, path: FifoPath, why: string): void {
  closeSync(fd);
  if (TRACE_LINKS) traceLink(`fd ${fd} ${String(path)}: closed (${why})`);
}

// O_NOFOLLOW and the fstat after the open close the race between our lstat and the open:
// whatever the path names by then, only a FIFO is ever used.
const SAFE = C.O_NONBLOCK | C.O_NOFOLLOW | C.O_NOCTTY;

/** A read end: O_RDONLY|O_NONBLOCK, no EOF before a writer first appears, 'end' when the last one leaves. */
export async function openReadEnd(path: FifoPath, expect?: FileId): Promise<net.Socket> {
  const fd = await openFd(path, C.O_RDONLY, expect);
  return fifoSocket(fd, path, true);
}

/**
 * A read end that also waits for the writer: the open never waits (O_NONBLOCK), so the other side's
 * blocking open of its write end returns at once; then a non-blocking read tells whether a writer
 * holds the FIFO (EAGAIN, or bytes) or none does (0), retried until `signal` aborts. Bytes read
 * while probing come back with the socket, to be handled before anything the socket reads.
 */
export async function openReadEndWithWriter(
  path: FifoPath,
  signal: AbortSignal,
  expect?: FileId,
): Promise<{ fd: number; waitForWriter(): Promise<{ socket: net.Socket; first: Buffer | null }>; close(): void }> {
  const fd = await openFd(path, C.O_RDONLY, expect);
  let owned = true;
  const close = () => {
    if (owned) closeRaw(fd, path, 'before a writer came');
    owned = false;
  };
  const waitForWriter = async () => {
    const probe = Buffer.alloc(64 * 1024);
    let delay = 1;
    for (;;) {
      if (!owned) throw new FifoError('aborted', path, 'closed while waiting for a writer');
      if (signal.aborted) throw new FifoError('aborted', path, 'gave up waiting for a writer', signal.reason);
      let n = -1;
      try {
        n = readSync(fd, probe, 0, probe.length, null);
      } catch (error) {
        if (errno(error) !== 'EAGAIN') throw error;
      }
      // -1: EAGAIN, a writer is there with nothing to say yet; >0: it has spoken already.
      if (n !== 0) {
        owned = false;
        return { socket: fifoSocket(fd, path, true), first: n > 0 ? Buffer.from(probe.subarray(0, n)) : null };
      }
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      delay = Math.min(delay * 2, 16);
    }
  };
  return { fd, waitForWriter, close };
}

/**
 * A client's own request FIFO, opened O_RDWR so the open never waits; the server's read end
 * then sees a writer from its first moment and an EOF when this process dies.
 */
export async function openOwnWriteEnd(path: FifoPath): Promise<net.Socket> {
  const fd = await openFd(path, C.O_RDWR);
  return fifoSocket(fd, path, false);
}

/**
 * A write end: O_WRONLY|O_NONBLOCK fails with ENXIO until a reader opens, so retry with a short
 * backoff until `signal` aborts. O_WRONLY (not O_RDWR) keeps a dead reader visible as EPIPE.
 */
export async function openWriteEnd(path: FifoPath, signal: AbortSignal, expect?: FileId): Promise<net.Socket> {
  let delay = 1;
  for (;;) {
    if (signal.aborted) throw new FifoError('aborted', path, 'gave up waiting for a reader', signal.reason);
    try {
      const fd = await openFd(path, C.O_WRONLY, expect);
      if (signal.aborted) {
        closeRaw(fd, path, 'aborted while opening');
        continue;
      }
      return fifoSocket(fd, path, false);
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
    closeRaw(await openFd(path, C.O_WRONLY), path, 'probe');
    return true;
  } catch (error) {
    if (errno(error) === 'ENXIO' || errno(error) === 'ENOENT' || (error instanceof FifoError && error.code === 'missing')) return false;
    throw error;
  }
}

/** A bare fd (not a FileHandle, which would close it when collected): the socket owns it. */
async function openFd(path: FifoPath, flags: number, expect?: FileId): Promise<number> {
  await assertFifo(path);
  const fd = await new Promise<number>((resolve, reject) => {
    open(path, flags | SAFE, (error, fd) => (error === null ? resolve(fd) : reject(error)));
  });
  const stat = fstatSync(fd);
  if (stat.isFIFO() && (expect === undefined || sameFile(stat, expect))) {
    if (TRACE_LINKS) traceLink(`fd ${fd} ${String(path)}: opened ${flags === C.O_RDONLY ? 'O_RDONLY' : flags === C.O_WRONLY ? 'O_WRONLY' : 'O_RDWR'}`);
    return fd;
  }
  closeRaw(fd, path, 'not the FIFO expected');
  if (!stat.isFIFO()) throw new FifoError('not-a-fifo', path, 'is not a FIFO once opened');
  throw new FifoError(LINK_REFUSED, path, 'was replaced by another FIFO while being opened');
}

/** The server's end of the registration FIFO: O_RDWR so it never sees EOF between clients. */
export async function openRegistrationEnd(path: FifoPath): Promise<net.Socket> {
  const fd = await openFd(path, C.O_RDWR);
  return fifoSocket(fd, path, true);
}

/**
 * Ends a write end (after `last`, when given) and resolves once it is closed; a reader that does
 * not take the bytes within `ms` does not hold us: the socket is destroyed then.
 */
export function endWithin(socket: net.Socket, ms: number, last?: Uint8Array): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  socket.on('error', () => {});
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    const done = () => socket.destroy();
    if (last === undefined) socket.end(done);
    else socket.end(last, done);
  });
}
