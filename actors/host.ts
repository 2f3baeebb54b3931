/**
 * The host actor: owns the registration FIFO and reads 121-byte connect requests from it into
 * the bounded connect buffer. When the buffer is full it stops reading, so the kernel's pipe
 * buffer fills and writers wait, as the seed's semaphores made them. It is the only actor that
 * listens for SIGUSR1.
 */
import { lstat } from 'node:fs/promises';
import type net from 'node:net';
import { FrameReader } from '../protocol/frame-reader.js';
import { createFifos, FIFO_MODE, openRegistrationEnd, removeFile } from '../runtime/fifo.js';
import type { ConnectQueue } from './connect-queue.js';

/** Where SIGUSR1 comes from: the process, or a fake in tests. */
export interface SignalSource {
  on(listener: () => void): void;
  off(listener: () => void): void;
}

export const processSigusr1: SignalSource = {
  on: (listener) => process.on('SIGUSR1', listener),
  off: (listener) => process.off('SIGUSR1', listener),
};

export type HostInput = {
  path: string;
  queue: ConnectQueue;
  onSigusr1: () => void;
  log: (line: string) => void;
  signals?: SignalSource;
  mode?: number;
};

export class Host {
  private readonly reader = new FrameReader('register');
  private closing: Promise<void> | null = null;
  private malformed = 0;

  private constructor(
    private readonly input: HostInput,
    private readonly socket: net.Socket,
    private readonly inode: number,
    private readonly signals: SignalSource,
  ) {}

  /** Creates the FIFO (replacing a stale FIFO or file there) and starts reading it. */
  static async start(input: HostInput): Promise<Host> {
    await createFifos([input.path], input.mode ?? FIFO_MODE);
    const { ino } = await lstat(input.path);
    let socket: net.Socket;
    try {
      socket = await openRegistrationEnd(input.path);
    } catch (error) {
      await removeFile(input.path);
      throw error;
    }
    const host = new Host(input, socket, ino, input.signals ?? processSigusr1);
    host.listen();
    return host;
  }

  /** Frames skipped as malformed since start. */
  get malformedCount(): number {
    return this.malformed;
  }

  private readonly onSigusr1 = (): void => this.input.onSigusr1();

  private listen(): void {
    const { queue } = this.input;
    this.signals.on(this.onSigusr1);
    queue.onSpace = () => this.pump();
    this.socket.on('data', (chunk: Buffer) => {
      this.reader.append(chunk);
      this.pump();
    });
    // O_RDWR means no EOF between clients; an error here is the FIFO itself failing.
    this.socket.on('error', (error) => this.input.log(`registration FIFO ${this.input.path}: ${error.message}`));
  }

  /** Moves whole frames into the buffer while it has room; reads on only while it has room. */
  private pump(): void {
    const { queue } = this.input;
    while (!queue.full) {
      const result = this.reader.next();
      if (result === undefined) break;
      if (result.ok) queue.offer(result.value);
      else this.reject(result.error.message);
    }
    if (queue.full) this.socket.pause();
    else if (this.closing === null) this.socket.resume();
  }

  private reject(reason: string): void {
    this.malformed++;
    // Garbage is skipped byte by byte; report once per burst, not once per byte.
    if (this.malformed === 1 || this.malformed % 1000 === 0) this.input.log(`registration FIFO: malformed connect request skipped (${reason})`);
  }

  /** Stops reading, stops listening for SIGUSR1, removes the FIFO if it is still ours. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.signals.off(this.onSigusr1);
      this.input.queue.onSpace = null;
      this.socket.destroy();
      const stat = await lstat(this.input.path).catch(() => null);
      if (stat !== null && stat.ino === this.inode) await removeFile(this.input.path);
    })();
    return this.closing;
  }
}
