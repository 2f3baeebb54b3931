/**
 * The piscina worker entry: the work half of a job actor. Streams one `.job` file, parses it,
 * sends its operations to the store in batches over the bus, and writes the `.out` from the
 * results. A batch ends at WAIT, BACKUP, SHOW, the end of the file or a size bound; up to
 * MAX_IN_FLIGHT batches are in flight, so parsing overlaps the store's work, but at most one of
 * them holds a SHOW: what a job holds of the store's pairs is one copy, whatever its SHOWs.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Op, decode, encode, isToWorker, type BusValue } from '../protocol/bus.js';
import { parseLine, type Command } from '../protocol/job-language.js';
import { compareKeys, display } from '../protocol/keys.js';
import type { Compat } from '../protocol/compat.js';
import type { JobSummary, JobTask } from '../protocol/job-task.js';
import { HELP_TEXT, WAITING, formatDeleteMissing, formatPairs, formatRead } from '../protocol/output.js';
import { LineReader } from './line-reader.js';
import { writeAll } from './write-all.js';

const MAX_BATCH_OPS = 4096;
const MAX_IN_FLIGHT = 3;
const OUT_FLUSH_CHARS = 1 << 16;
const WORKER_NICENESS = 5;

interface Batch {
  readonly seq: number;
  readonly commands: Command[];
  readonly show: boolean;
}

/**
 * Opens a path for writing, refusing anything but a regular file without blocking: a plain
 * open of a FIFO would hold this worker thread until a reader came, past any signal.
 */
export function openRegularForWriting(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK, 0o666);
  } catch (error) {
    // ENXIO: a FIFO with no reader. Anything else (EACCES, EISDIR, EMFILE...) speaks for itself.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') throw new Error(`${path} is not a regular file (a FIFO): refusing to write to it`);
    throw error;
  }
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file: refusing to write to it`);
    ftruncateSync(fd, 0);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/** Buffered writes to the `.out`: one system call per 64 KiB, not one per line. */
class OutFile {
  private readonly fd: number;
  private pending = '';

  constructor(path: string) {
    this.fd = openRegularForWriting(path);
  }

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= OUT_FLUSH_CHARS) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending, 'latin1');
    this.pending = '';
    writeAll(this.fd, bytes);
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * The store on the main thread is the one place every batch goes through, so it must not wait
 * for the CPU behind the workers that feed it: on Linux, lower this worker thread's priority.
 */
function yieldToStore(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, WORKER_NICENESS);
  } catch {
    // Not Linux, or not allowed: the workers share the CPU evenly with the store, which is only slower.
  }
}
yieldToStore();

/**
 * Writes a line to stderr. A worker's stderr is a stream to the main thread, which copies it to
 * its own; the promise settles once the main thread has taken the line (it then asks for more).
 */
function report(line: string): Promise<void> {
  return new Promise((resolve) => process.stderr.write(line, () => resolve()));
}

export default async function runJob(task: JobTask): Promise<JobSummary> {
  const { port, compat } = task;
  let reader: LineReader | undefined;
  let out: OutFile;
  try {
    // Open the job first: an unreadable job must not leave an empty .out behind.
    reader = new LineReader(task.jobPath);
    out = new OutFile(task.outPath);
  } catch (error) {
    reader?.close();
    port.close();
    throw error;
  }
  const stop = new AbortController();
  const inFlight: Batch[] = [];
  let settle: (() => void) | null = null;
  let failure: Error | null = null;

  port.on('message', (bytes: Uint8Array) => {
    const message = decode(bytes);
    if (!isToWorker(message)) {
      failure = new Error('job worker: malformed message from the store');
    } else if (message.t === 'stop') {
      stop.abort();
    } else {
      const batch = inFlight.shift();
      if (batch === undefined || batch.seq !== message.seq) failure = new Error('job worker: results out of order');
      // A refused batch was not applied (the job is stopping): it has no output.
      else if (message.t === 'results') writeResults(out, batch.commands, message.results, compat);
    }
    settle?.();
  });

  /** Resolves once `done()` holds (or a failure came). */
  const waitUntil = async (done: () => boolean) => {
    while (!done() && failure === null) {
      await new Promise<void>((resolve) => (settle = resolve));
      settle = null;
    }
    if (failure !== null) throw failure;
  };
  /** Resolves once at most `limit` batches are in flight. */
  const waitForRoom = (limit: number) => waitUntil(() => inFlight.length <= limit);

  let seq = 0;
  let commands: Command[] = [];
  let ops: BusValue[] = [];
  let hasShow = false;
  const send = async () => {
    if (commands.length === 0) return;
    // One SHOW's results in flight at a time: the store answers a SHOW with all its pairs.
    if (hasShow) await waitUntil(() => !inFlight.some((b) => b.show));
    if (stop.signal.aborted) {
      // Stopping: what was parsed but not yet sent is dropped.
      commands = [];
      ops = [];
      hasShow = false;
      return;
    }
    const batch: Batch = { seq: seq++, commands, show: hasShow };
    inFlight.push(batch);
    const bytes = encode({ t: 'batch', seq: batch.seq, ops });
    port.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
    commands = [];
    ops = [];
    hasShow = false;
    await waitForRoom(MAX_IN_FLIGHT - 1);
  };

  let reported: Promise<void> | null = null;
  let count = 0;
  let invalid = 0;
  let backups = 0;
  try {
    for (let line = reader.next(); line !== null && !stop.signal.aborted; line = reader.next()) {
      const parsed = typeof line === 'string' ? parseLine(line) : { kind: 'invalid' as const, reason: `line of ${line.tooLong} bytes is too long` };
      if (parsed === null) continue;
      if (parsed.kind === 'invalid') {
        invalid++;
        reported = report(`${task.jobPath}:${reader.lineNumber}: ${display(parsed.reason)}\n`);
        continue;
      }
      count++;
      switch (parsed.kind) {
        case 'wait':
          await send();
          await waitForRoom(0);
          if (parsed.ms > 0) {
            out.write(WAITING);
            await sleep(parsed.ms, undefined, { signal: stop.signal }).catch(() => undefined);
          }
          continue;
        case 'backup':
          ops.push(Op.Backup, ++backups);
          commands.push(parsed);
          await send();
          continue;
        case 'write':
          ops.push(Op.Write, parsed.pairs.length / 2);
          for (const token of parsed.pairs) ops.push(token);
          break;
        case 'read':
        case 'delete': {
          const keys = [...parsed.keys].sort(compareKeys);
          commands.push({ kind: parsed.kind, keys });
          ops.push(parsed.kind === 'read' ? Op.Read : Op.Delete, keys.length);
          for (const key of keys) ops.push(key);
          if (ops.length >= MAX_BATCH_OPS) await send();
          continue;
        }
        case 'show':
          // A SHOW ends its batch, so a batch's results hold at most one copy of the store.
          ops.push(Op.Show);
          commands.push(parsed);
          hasShow = true;
          await send();
          continue;
        case 'help':
          break;
      }
      commands.push(parsed);
      if (ops.length >= MAX_BATCH_OPS) await send();
    }
    // A stopped job runs nothing more: what was parsed but not yet sent is dropped.
    if (!stop.signal.aborted) await send();
    await waitForRoom(0);
  } finally {
    reader.close();
    out.close();
    port.close();
    // The job's reports reach the main thread's stderr before the job is done (and so before
    // the run summary, which must come last).
    await reported;
  }
  return { commands: count, invalid, backups, stopped: stop.signal.aborted };
}

/** Formats one batch's results, in command order. READ and DELETE keys were sorted when sent. */
function writeResults(out: OutFile, commands: readonly Command[], results: readonly BusValue[], compat: Compat): void {
  let r = 0;
  for (const command of commands) {
    switch (command.kind) {
      case 'read': {
        const n = command.keys.length;
        out.write(formatRead(command.keys, results.slice(r, r + n) as (string | null)[]));
        r += n;
        break;
      }
      case 'delete': {
        const m = results[r] as number;
        out.write(formatDeleteMissing(results.slice(r + 1, r + 1 + m) as string[]));
        r += 1 + m;
        break;
      }
      case 'show': {
        const width = results[r] as number;
        out.write(formatPairs(sortPairs(results, r + 1, width), compat));
        r += 1 + width;
        break;
      }
      case 'help':
        out.write(HELP_TEXT);
        break;
      case 'write':
      case 'backup':
      case 'wait':
        break;
    }
  }
}

/** The `width / 2` pairs at `from` as a flat array sorted by key (byte order). */
export function sortPairs(flat: readonly BusValue[], from: number, width: number): string[] {
  const order: number[] = [];
  for (let i = 0; i < width; i += 2) order.push(from + i);
  order.sort((a, b) => compareKeys(flat[a] as string, flat[b] as string));
  const sorted: string[] = new Array<string>(width);
  for (let i = 0; i < order.length; i++) {
    sorted[2 * i] = flat[order[i]!] as string;
    sorted[2 * i + 1] = flat[order[i]! + 1] as string;
  }
  return sorted;
}
