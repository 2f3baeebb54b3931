/**
 * Reads a file a line at a time without holding it whole: fixed-size chunks, lines decoded as
 * latin1 (one code unit per byte, so keys keep their exact bytes). Handles CRLF (the parser drops
 * the '\r'), a last line without a newline, and lines over `maxLineBytes`, which are reported as
 * too long and skipped up to their newline instead of being buffered.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export const CHUNK_BYTES = 1 << 16;
export const MAX_LINE_BYTES = 1 << 20;

export type Line = string | { readonly tooLong: number };

export class LineReader {
  private readonly fd: number;
  private readonly buffer: Buffer;
  private carry: Buffer | null = null;
  private skipping = 0;
  private lines: Line[] = [];
  private index = 0;
  private eof = false;
  /** The number of the line last returned by next(), from 1. */
  lineNumber = 0;

  constructor(path: string, private readonly maxLineBytes = MAX_LINE_BYTES, chunkBytes = CHUNK_BYTES) {
    // O_NONBLOCK: a job path that became a FIFO must not hold a worker thread in its open.
    this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!fstatSync(this.fd).isFile()) throw new Error(`${path} is not a regular file`);
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
    this.buffer = Buffer.allocUnsafe(chunkBytes);
  }

  /** The next line (without its '\n'), `{ tooLong }` for an overlong one, or null at the end. */
  next(): Line | null {
    while (this.index === this.lines.length) {
      if (this.eof) return null;
      this.fill();
    }
    this.lineNumber++;
    return this.lines[this.index++]!;
  }

  private fill(): void {
    this.lines = [];
    this.index = 0;
    const n = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
    if (n === 0) {
      this.eof = true;
      if (this.skipping > 0) this.lines.push({ tooLong: this.skipping });
      else if (this.carry !== null && this.carry.length > 0) this.lines.push(this.carry.toString('latin1'));
      this.carry = null;
      return;
    }
    const chunk = this.buffer.subarray(0, n);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (this.skipping > 0) {
        this.lines.push({ tooLong: this.skipping + nl - start });
        this.skipping = 0;
      } else if (this.carry !== null) {
        const whole = Buffer.concat([this.carry, chunk.subarray(start, nl)]);
        this.carry = null;
        this.lines.push(whole.length > this.maxLineBytes ? { tooLong: whole.length } : whole.toString('latin1'));
      } else {
        this.lines.push(nl - start > this.maxLineBytes ? { tooLong: nl - start } : chunk.toString('latin1', start, nl));
      }
      start = nl + 1;
    }
    const tail = n - start;
    if (tail === 0) return;
    if (this.skipping > 0) {
      this.skipping += tail;
    } else {
      const carried = (this.carry?.length ?? 0) + tail;
      if (carried > this.maxLineBytes) {
        this.skipping = carried;
        this.carry = null;
      } else {
        // Copy: the chunk buffer is reused by the next read.
        this.carry = Buffer.concat(this.carry === null ? [chunk.subarray(start)] : [this.carry, chunk.subarray(start)]);
      }
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
