/**
 * The piscina worker entry: the work half of a job actor. Streams one `.job` file, parses it,
 * sends its operations to the store in batches over the bus, and writes the `.out` from the
 * results. A batch ends at WAIT, BACKUP, SHOW, the end of the file or a size bound; up to
 * MAX_IN_FLIGHT batches are in flight, so parsing overlaps the store's work, but at most one of
 * them holds a SHOW: what a job holds of the store's pairs is one copy, whatever its SHOWs.
 */
import { closeSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchReader, BatchWriter, Op, tokensOf } from '../../protocol/batch-codec.js';
import { decode, encode, isToWorker } from '../../protocol/bus.js';
import { parseLine } from '../../protocol/job-language.js';
import { appendPlainLine } from '../../protocol/plain-lines.js';
import { compareKeys, display, escapeControls } from '../../protocol/keys.js';
import type { Compat } from '../../protocol/compat.js';
import { describeError, errorCode } from '../../protocol/system-errors.js';
import type { JobSummary, JobTask } from '../../protocol/job-task.js';
import { HELP_TEXT, WAITING, formatDeleteMissing, formatPairs, formatRead, type ByteOut } from '../../protocol/output.js';
import { LineReader, MAX_LINE_BYTES } from './line-reader.js';
import { writeAll } from '../os/write-all.js';
import { openRegularForWriting } from '../os/regular-file.js';

/** A batch is sent once it holds this many bytes (about 1,000 commands of the benchmark's mix). */
const MAX_BATCH_BYTES = 1 << 15;
const MAX_IN_FLIGHT = 3;
const OUT_FLUSH_BYTES = 1 << 16;
const WORKER_NICENESS = 5;

interface Batch {
  readonly seq: number;
  /** The batch as sent: its keys are what READ and DELETE print. */
  readonly bytes: Uint8Array;
  readonly show: boolean;
}

/**
 * A job's buffers, kept by its thread from one job to the next: a one-line job would otherwise
 * spend more on fresh 64 KiB buffers (zeroed, most of them) than on its commands. Piscina gives a
 * thread one job at a time; were it ever to give two, the second would get buffers of its own.
 */
interface JobBuffers {
  /** The batch being filled; sent batches keep their bytes until their results are written. */
  readonly batch: BatchWriter;
  /** Message buffers the store sent back, to send the next batches in. */
  readonly spare: ArrayBuffer[];
  /** The `.out`'s write buffer. */
  readonly out: Buffer;
}

let keptBuffers: JobBuffers | null = null;

function takeBuffers(): JobBuffers {
  const buffers = keptBuffers ?? { batch: new BatchWriter(), spare: [], out: Buffer.allocUnsafe(OUT_FLUSH_BYTES) };
  keptBuffers = null;
  buffers.batch.clear();
  return buffers;
}

/** Buffered writes to the `.out`: one system call per 64 KiB, not one per line. */
class OutFile implements ByteOut {
  private readonly fd: number;
  private length = 0;
  /** Set once a write failed: the job fails with it, and nothing more is written. */
  private failed = false;

  /** `buffer`: OUT_FLUSH_BYTES bytes, this file's until it is closed. */
  constructor(
    private readonly path: string,
    private readonly buffer: Buffer,
  ) {
    this.fd = openRegularForWriting(path);
  }

  /** Writes through to the file; a system error (ENOSPC, EIO, EFBIG...) is said in words, with the file. */
  private put(bytes: Uint8Array): void {
    if (this.failed) return;
    try {
      writeAll(this.fd, bytes);
    } catch (error) {
      this.failed = true;
      throw errorCode(error) === undefined ? error : new Error(`cannot write ${this.path}: ${describeError(error)}`, { cause: error });
    }
  }

  byte(c: number): void {
    if (this.length === OUT_FLUSH_BYTES) this.flush();
    this.buffer[this.length++] = c;
  }

  copy(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.length + n > OUT_FLUSH_BYTES) {
      this.flush();
      if (n > OUT_FLUSH_BYTES) return this.put(src.subarray(start, end));
    }
    const b = this.buffer;
    let at = this.length;
    if (n <= 64) for (let i = start; i < end; i++) b[at++] = src[i]!;
    else b.set(src.subarray(start, end), at);
    this.length += n;
  }

  text(s: string): void {
    const n = s.length;
    if (this.length + n > OUT_FLUSH_BYTES) {
      this.flush();
      if (n > OUT_FLUSH_BYTES) return this.put(Buffer.from(s, 'latin1'));
    }
    const b = this.buffer;
    let at = this.length;
    if (n <= 64) for (let i = 0; i < n; i++) b[at++] = s.charCodeAt(i);
    else b.write(s, at, 'latin1');
    this.length += n;
  }

  flush(): void {
    const n = this.length;
    this.length = 0;
    if (n > 0) this.put(this.buffer.subarray(0, n));
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
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

/**
 * Opens the job and its `.out`, the job first: an unreadable job must not leave an empty .out
 * behind. On failure nothing stays open, and the error says why in words.
 */
function openJob(task: JobTask, buffers: JobBuffers): { reader: LineReader; out: OutFile } {
  let reader: LineReader | undefined;
  try {
    reader = new LineReader(task.jobPath);
    return { reader, out: new OutFile(task.outPath, buffers.out) };
  } catch (error) {
    reader?.close();
    task.port.close();
    keptBuffers = buffers;
    // The folder's listing decodes names as UTF-8: a name that is not becomes U+FFFD, a name no
    // file has. Said plainly, rather than as the file being missing.
    if (reader === undefined && errorCode(error) === 'ENOENT' && task.jobPath.includes('\uFFFD')) {
      throw new Error('its name is not valid UTF-8, so it cannot be opened by name: rename it');
    }
    if (reader === undefined && errorCode(error) !== undefined) throw new Error(`cannot read it: ${describeError(error)}`, { cause: error });
    throw error;
  }
}

/**
 * The job's side of the bus: sends the batch being filled, keeps up to MAX_IN_FLIGHT in flight
 * (at most one holding a SHOW), and writes each batch's results to the `.out` as they come back.
 * The store may tell it to stop (`stop`) or that the job failed (`failure`).
 */
class BatchChannel {
  readonly stop = new AbortController();
  private readonly inFlight: Batch[] = [];
  private settle: (() => void) | null = null;
  private failure: Error | null = null;
  private seq = 0;
  /** The batch being filled ends in a SHOW. */
  hasShow = false;

  constructor(
    private readonly port: JobTask['port'],
    private readonly buffers: JobBuffers,
    out: OutFile,
    compat: Compat,
  ) {
    port.on('message', (bytes: Uint8Array) => {
      this.take(bytes, out, compat);
      this.settle?.();
    });
  }

  private take(bytes: Uint8Array, out: OutFile, compat: Compat): void {
    const message = decode(bytes);
    if (!isToWorker(message)) {
      this.failure = new Error('job worker: malformed message from the store');
    } else if (message.t === 'stop') {
      this.stop.abort();
    } else if (message.t === 'failed') {
      // What was answered is written; the job stops here and fails with the store's reason.
      this.failure = new Error(message.reason);
      this.stop.abort();
    } else {
      const sent = this.inFlight.shift();
      if (sent === undefined || sent.seq !== message.seq) this.failure = new Error('job worker: results out of order');
      else {
        // A refused batch was not applied (the job is stopping): it has no output. A write that
        // fails (a full disk) fails the job, here as anywhere: not an exception out of this listener.
        if (message.t === 'results') {
          try {
            writeResults(out, sent.bytes, message.results, compat);
          } catch (error) {
            this.failure = error as Error;
            this.stop.abort();
          }
        }
        this.buffers.batch.recycle(sent.bytes);
        // Read whole: the buffer can carry the next batch.
        if (this.buffers.spare.length < MAX_IN_FLIGHT) this.buffers.spare.push(bytes.buffer as ArrayBuffer);
      }
    }
  }

  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  /** Resolves once `done()` holds (or a failure came). */
  private async waitUntil(done: () => boolean): Promise<void> {
    while (!done() && this.failure === null) {
      await new Promise<void>((resolve) => (this.settle = resolve));
      this.settle = null;
    }
    if (this.failure !== null) throw this.failure;
  }

  /** Resolves once at most `limit` batches are in flight. */
  waitForRoom(limit: number): Promise<void> {
    return this.waitUntil(() => this.inFlight.length <= limit);
  }

  /** Sends the batch being filled, if it holds a command. */
  async send(): Promise<void> {
    const { batch, spare } = this.buffers;
    if (batch.commands === 0) return;
    // One SHOW's results in flight at a time: the store answers a SHOW with all its pairs.
    if (this.hasShow) await this.waitUntil(() => !this.inFlight.some((b) => b.show));
    const show = this.hasShow;
    this.hasShow = false;
    const bytes = batch.takeView();
    // Stopping: what was parsed but not yet sent is dropped.
    if (this.stopped) return batch.recycle(bytes);
    this.inFlight.push({ seq: this.seq, bytes, show });
    // This thread's only msgpackr user: packing can reuse msgpackr's buffer from its start.
    const message = encode({ t: 'batch', seq: this.seq++, ops: bytes }, spare.pop(), true);
    this.port.postMessage(message, [message.buffer as ArrayBuffer]);
    await this.waitForRoom(MAX_IN_FLIGHT - 1);
  }
}

export default async function runJob(task: JobTask): Promise<JobSummary> {
  const buffers = takeBuffers();
  const { reader, out } = openJob(task, buffers);
  const channel = new BatchChannel(task.port, buffers, out, task.compat);
  const counts: LineCounts = { commands: 0, invalid: 0, backups: 0, reported: null };
  try {
    await runLines(task, reader, out, channel, buffers.batch, counts);
    // A stopped job runs nothing more: what was parsed but not yet sent is dropped.
    if (!channel.stopped) await channel.send();
    await channel.waitForRoom(0);
  } finally {
    reader.close();
    try {
      out.close();
    } finally {
      task.port.close();
      keptBuffers = buffers;
    }
    // The job's reports reach the main thread's stderr before the job is done (and so before
    // the run summary, which must come last).
    await counts.reported;
  }
  return { commands: counts.commands, invalid: counts.invalid, backups: counts.backups, stopped: channel.stopped };
}

/** What a job's lines came to, and the last report of an invalid line (still being written). */
interface LineCounts {
  commands: number;
  invalid: number;
  backups: number;
  reported: Promise<void> | null;
}

/** Reads the job's lines into batches until its end or a stop. */
async function runLines(
  task: JobTask,
  reader: LineReader,
  out: OutFile,
  channel: BatchChannel,
  batch: BatchWriter,
  counts: LineCounts,
): Promise<void> {
  // A file name can hold control characters: they must not reach the terminal raw.
  const jobPathShown = escapeControls(task.jobPath);
  while (reader.advance() && !channel.stopped) {
    // Most lines go from the file's bytes straight into the batch; parseLine takes the rest.
    if (reader.tooLong === 0 && appendPlainLine(batch, reader.bytes, reader.start, reader.end)) {
      counts.commands++;
      if (batch.length >= MAX_BATCH_BYTES) await channel.send();
      continue;
    }
    const parsed =
      reader.tooLong === 0
        ? parseLine(reader.bytes.toString('latin1', reader.start, reader.end), task.compat)
        : { kind: 'invalid' as const, reason: `line of ${reader.tooLong} bytes is too long (at most ${MAX_LINE_BYTES >> 20} MiB)` };
    if (parsed === null) continue;
    if (parsed.kind === 'invalid') {
      counts.invalid++;
      // A byte order mark (as Windows editors save a file) is part of the first line, as in the
      // C implementations; the report says so, since the mark itself is invisible.
      const bom = reader.lineNumber === 1 && reader.bytes[reader.start] === 0xef && reader.bytes[reader.start + 1] === 0xbb && reader.bytes[reader.start + 2] === 0xbf;
      const hint = bom ? ' (the file starts with a UTF-8 byte order mark: save it without one)' : '';
      counts.reported = report(`${jobPathShown}:${reader.lineNumber}: ${display(parsed.reason)}${hint}\n`);
      continue;
    }
    counts.commands++;
    switch (parsed.kind) {
      case 'wait':
        await channel.send();
        await channel.waitForRoom(0);
        if (parsed.ms > 0) {
          out.text(WAITING);
          await sleep(parsed.ms, undefined, { signal: channel.stop.signal }).catch(() => undefined);
        }
        continue;
      case 'backup':
        batch.backup(++counts.backups);
        await channel.send();
        continue;
      case 'write':
        batch.write(parsed.pairs);
        break;
      case 'read':
      case 'delete': {
        // The parser's own fresh array: sorted in place, as READ and DELETE print their keys.
        const keys = (parsed.keys as string[]).sort(compareKeys);
        if (parsed.kind === 'read') batch.read(keys);
        else batch.delete(keys);
        break;
      }
      case 'show':
        // A SHOW ends its batch, so a batch's results hold at most one copy of the store.
        batch.show();
        channel.hasShow = true;
        await channel.send();
        continue;
      case 'help':
        // Its text goes after the results of every command before it.
        await channel.send();
        await channel.waitForRoom(0);
        if (!channel.stopped) out.text(HELP_TEXT[task.compat]);
        continue;
    }
    if (batch.length >= MAX_BATCH_BYTES) await channel.send();
  }
}

/** Formats one batch's results, in command order. READ and DELETE keys were sorted when sent. */
function writeResults(out: OutFile, sent: Uint8Array, results: Uint8Array, compat: Compat): void {
  const b = new BatchReader(sent);
  const r = new BatchReader(results);
  while (!b.done) {
    const op = b.command();
    const n = b.n;
    switch (op) {
      case Op.Show: {
        const width = 2 * r.count();
        const flat = new Array<string>(width);
        for (let i = 0; i < width; i++) flat[i] = r.token();
        out.text(formatPairs(sortPairs(flat, 0, width), compat));
        break;
      }
      case Op.Read:
        formatRead(out, b, r, n);
        break;
      case Op.Delete:
        formatDeleteMissing(out, b, r, n);
        break;
      default:
        b.skipTokens(tokensOf(op, n));
    }
  }
  if (!r.done) throw new Error('job worker: results longer than their batch');
}

/** The `width / 2` pairs at `from` as a flat array sorted by key (byte order). */
export function sortPairs(flat: readonly string[], from: number, width: number): string[] {
  const order: number[] = [];
  for (let i = 0; i < width; i += 2) order.push(from + i);
  order.sort((a, b) => compareKeys(flat[a]!, flat[b]!));
  const sorted: string[] = new Array<string>(width);
  for (let i = 0; i < order.length; i++) {
    sorted[2 * i] = flat[order[i]!]!;
    sorted[2 * i + 1] = flat[order[i]! + 1]!;
  }
  return sorted;
}
