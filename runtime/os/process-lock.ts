/**
 * Locks that die with their process: one run per jobs folder (a second run on a folder in use,
 * batch or server, any `--compat`, is refused naming the first run's pid before it touches
 * anything), one client per client id (of two started at once with one id, one is refused before
 * it makes or removes a FIFO).
 *
 * A lock is a listening socket in Linux's abstract namespace. The kernel makes `bind` atomic (of
 * two takers at the same moment exactly one wins) and frees the name when the last descriptor on
 * it closes, whatever ends the process (a SIGKILLed holder never blocks the next, and no file is
 * left behind for a reused pid to seem to hold). Node opens every descriptor close-on-exec, so
 * the children a process starts (backup children) do not inherit it. The holder answers a
 * connection with its pid.
 *
 * Linux only (abstract sockets); any local user may bind an abstract name, so a user who can stat
 * a folder (or guess a client id) can keep runs off it, as one who can write in /tmp or in the
 * folder can spoil them anyway.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { type Server, createConnection, createServer } from 'node:net';
import { errorCode } from '../../protocol/system-errors.js';

/**
 * How long a refused run waits for the holder to say its pid: the holder answers from its event
 * loop, which a machine busy with other work can hold past a second while the run starts its threads.
 */
const HOLDER_ANSWER_MS = 5000;

export type Lock =
  | { readonly ok: true; readonly release: () => Promise<void> }
  /** `holder` null: the holder did not say its pid in time (stopped, or not a kvs run). */
  | { readonly ok: false; readonly holder: number | null };

function listen(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer((conn) => {
      conn.on('error', () => undefined);
      conn.end(`${process.pid}\n`);
    });
    server.once('error', (error) => (errorCode(error) === 'EADDRINUSE' ? resolve(null) : reject(error)));
    server.listen(name, () => {
      // Held until the process ends, without keeping it alive.
      server.unref();
      resolve(server);
    });
  });
}

/** The pid the holder of `name` says; null when it says nothing in time; 'gone' when no one holds it now. */
function askHolder(name: string): Promise<number | null | 'gone'> {
  return new Promise((resolve) => {
    let answer = '';
    let gone = false;
    const conn = createConnection(name);
    const done = () => {
      clearTimeout(timer);
      conn.destroy();
      const pid = /^(\d{1,10})\n/.exec(answer)?.[1];
      resolve(pid !== undefined ? Number(pid) : gone ? 'gone' : null);
    };
    const timer = setTimeout(done, HOLDER_ANSWER_MS);
    conn.setEncoding('latin1');
    conn.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\n') || answer.length > 16) done();
    });
    conn.on('error', (error) => {
      gone = errorCode(error) === 'ECONNREFUSED';
      done();
    });
    conn.on('end', done);
  });
}

/**
 * Takes the lock `name` (at most 100 bytes) for the rest of the process's life (or until
 * `release`), or says who holds it. Rejects only on a system error.
 */
export async function takeLock(name: string): Promise<Lock> {
  for (;;) {
    const server = await listen(`\0ist-kvs:${name}`);
    if (server !== null) return { ok: true, release: () => new Promise((resolve) => server.close(() => resolve())) };
    const holder = await askHolder(`\0ist-kvs:${name}`);
    // 'gone': the holder ended between our bind and our connect; the name is free again.
    if (holder !== 'gone') return { ok: false, holder };
  }
}

/**
 * The jobs folder's lock, named after its device, inode and birth time: another path to the same
 * folder (through a link, or `..`) is the same lock. The birth time tells apart a new folder
 * that got the inode of a removed one whose run still holds the lock (inode numbers are reused at
 * once on ext4 and tmpfs); where a file system keeps no birth time it reads 0 and the name is
 * device and inode alone. Rejects when the folder cannot be stat'ed.
 */
export async function lockFolder(dir: string): Promise<Lock> {
  const { dev, ino, birthtimeNs } = await stat(dir, { bigint: true });
  return takeLock(`jobs-folder:${dev}:${ino}:${birthtimeNs}`);
}

/** A client id's lock, named after its request FIFO's path (hashed: a name holds 107 bytes). */
export function lockClientId(reqPath: string): Promise<Lock> {
  return takeLock(`client:${createHash('sha256').update(reqPath).digest('hex')}`);
}
