/**
 * Cuts a byte stream from one FIFO into whole frames: chunks arrive split or joined at any byte.
 * It holds the bytes of a frame not yet whole; it does no I/O (the caller feeds it).
 */
import { type Channel, type DecodeResult, type FrameOf, decode, frameSize } from './frames.js';

export class FrameReader<C extends Channel> {
  readonly channel: C;
  private buf: Buffer = Buffer.alloc(0);
  private offset = 0;

  constructor(channel: C) {
    this.channel = channel;
  }

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.buf.length - this.offset;
  }

  /**
   * Adds a chunk and yields every whole frame now available. A consumer may stop early: the
   * remaining bytes stay here and `frames()` yields them later (the host does this when its
   * buffer is full). After an error the bad bytes are skipped, so a caller may go on: an unknown
   * op code skips one byte (resynchronising a shared FIFO), a bad frame skips the frame, except on
   * the registration FIFO, shared by every client: there a bad frame may be a stray writer's bytes
   * in front of another client's good request, so it skips one byte and looks again.
   */
  *push(chunk: Uint8Array): Generator<DecodeResult<FrameOf<C>>, void, undefined> {
    this.append(chunk);
    yield* this.frames();
  }

  *frames(): Generator<DecodeResult<FrameOf<C>>, void, undefined> {
    for (;;) {
      const result = this.next();
      if (result === undefined) return;
      yield result;
    }
  }

  /** One whole frame, or undefined while the next frame is still incomplete. */
  next(): DecodeResult<FrameOf<C>> | undefined {
    const available = this.buf.length - this.offset;
    if (available === 0) return undefined;
    const opByte = this.buf[this.offset] ?? 0;
    const size = frameSize(this.channel, opByte) ?? 1;
    if (available < size) return undefined;
    const frame = this.buf.subarray(this.offset, this.offset + size);
    const result = decode(this.channel, frame);
    this.offset += !result.ok && this.channel === 'register' ? 1 : size;
    return result;
  }

  /** At end of stream: an error when a partial frame is left over. */
  end(): DecodeResult<null> {
    const left = this.pendingBytes;
    this.buf = Buffer.alloc(0);
    this.offset = 0;
    if (left === 0) return { ok: true, value: null };
    return { ok: false, error: { code: 'truncated', message: `stream ended inside a frame (${left} bytes)` } };
  }

  /** Adds a chunk without reading frames yet (a consumer with no room for them). */
  append(chunk: Uint8Array): void {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.offset === this.buf.length) {
      // Common case: the previous chunk ended on a frame boundary, so no copy at all.
      this.buf = bytes;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.offset), bytes]);
    }
    this.offset = 0;
  }
}
