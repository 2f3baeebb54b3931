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
  /** The last chunk read: `buffer[0, chunk.length)`; lines are taken from `pos` on. */
  private chunk: Buffer;
  private pos = 0;
  private carry: Buffer | null = null;
  private skipping = 0;
  private eof = false;
  /** The number of the line last returned by next() or advance(), from 1. */
  lineNumber = 0;
  /**
   * After `advance()`: the line is `bytes[start, end)` (without its '\n'), valid until the next
   * call, or `tooLong` is its length when it is over the limit (then 0 for a line).
   */
  bytes: Buffer;
  start = 0;
  end = 0;
  tooLong = 0;

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
    this.chunk = this.buffer.subarray(0, 0);
    this.bytes = this.chunk;
  }

  /** The next line (without its '\n'), `{ tooLong }` for an overlong one, or null at the end. */
  next(): Line | null {
    if (!this.advance()) return null;
    return this.tooLong > 0 ? { tooLong: this.tooLong } : this.bytes.toString('latin1', this.start, this.end);
  }

  /** Moves to the next line, as bytes (see `bytes`); false at the end. No string is made. */
  advance(): boolean {
    for (;;) {
      if (this.pos < this.chunk.length && this.take()) {
        this.lineNumber++;
        return true;
      }
      if (this.eof) return false;
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      this.chunk = this.buffer.subarray(0, n);
      this.pos = 0;
      if (n === 0) {
        this.eof = true;
        const carry = this.carry;
        this.carry = null;
        if (this.skipping > 0) {
          this.lineTooLong(this.skipping);
          this.skipping = 0;
        } else if (carry !== null && carry.length > 0) {
          this.line(carry, 0, carry.length);
        } else {
          return false;
        }
        this.lineNumber++;
        return true;
      }
    }
  }

  /** Takes the next line of the chunk, or carries its unfinished end over; true for a line. */
  private take(): boolean {
    const chunk = this.chunk;
    const start = this.pos;
    const nl = chunk.indexOf(10, start);
    if (nl < 0) {
      this.pos = chunk.length;
      const tail = chunk.length - start;
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
      return false;
    }
    this.pos = nl + 1;
    if (this.skipping > 0) {
      this.lineTooLong(this.skipping + nl - start);
      this.skipping = 0;
    } else if (this.carry !== null) {
      const whole = Buffer.concat([this.carry, chunk.subarray(start, nl)]);
      this.carry = null;
      if (whole.length > this.maxLineBytes) this.lineTooLong(whole.length);
      else this.line(whole, 0, whole.length);
    } else if (nl - start > this.maxLineBytes) {
      this.lineTooLong(nl - start);
    } else {
      this.line(chunk, start, nl);
    }
    return true;
  }

  private line(bytes: Buffer, start: number, end: number): void {
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.tooLong = 0;
  }

  private lineTooLong(length: number): void {
    this.tooLong = length;
  }

  close(): void {
    closeSync(this.fd);
  }
}
