/**
 * A session's three FIFOs to one client: the request FIFO it reads, the response and the
 * notification FIFOs it writes. Opening never blocks and does not depend on the order in which
 * the client opens its ends; a client that does not open them within the deadline is dropped.
 */
import type net from 'node:net';
import { FrameReader } from '../protocol/frame-reader.js';
import { type ConnectFrame, type DecodeError, Op, RESULT_ERROR, type RequestFrame, encodeResponse } from '../protocol/frames.js';
import type { Subscriber } from '../actors/subscriptions.js';
import { openReadEnd, openWriteEnd } from './fifo.js';
import { type NotificationLimits, NotificationWriter } from './notification-writer.js';

/** Responses are 2 bytes: a client this far behind is flooding requests without reading answers. */
const RESPONSE_CAP_BYTES = 64 * 1024;
/** How long a DISCONNECT may take to flush what is queued before the FIFOs are simply closed. */
const FLUSH_DEADLINE_MS = 1000;

export interface LinkHandlers {
  request(frame: RequestFrame): void;
  malformed(error: DecodeError): void;
  gone(reason: string): void;
  overflow(): void;
}

/** What a session needs of its client: tests provide fakes. */
export interface ClientLink {
  readonly name: string;
  readonly subscriber: Subscriber;
  respond(op: Op, result: number): void;
  /** Starts delivering events; returns the way to stop. */
  listen(handlers: LinkHandlers): () => void;
  /** Graceful: flush queued responses and notifications first (bounded by a deadline). */
  close(graceful: boolean): Promise<void>;
}

export type OpenLinkOptions = { handshakeMs: number; notifyLimits: NotificationLimits; signal: AbortSignal };

export async function openClientLink(request: ConnectFrame, options: OpenLinkOptions): Promise<ClientLink> {
  const giveUp = new AbortController();
  const signal = AbortSignal.any([options.signal, giveUp.signal, AbortSignal.timeout(options.handshakeMs)]);
  const failFast = <T>(p: Promise<T>) => p.catch((error: unknown) => { giveUp.abort(error); throw error; });
  const [req, resp, notif] = await Promise.allSettled([
    failFast(openReadEnd(bytesOf(request.reqPipe))),
    failFast(openWriteEnd(bytesOf(request.respPipe), signal)),
    failFast(openWriteEnd(bytesOf(request.notifPipe), signal)),
  ]);
  if (req.status === 'fulfilled' && resp.status === 'fulfilled' && notif.status === 'fulfilled' && !options.signal.aborted) {
    return new SocketClientLink(request.reqPipe, req.value, resp.value, notif.value, options.notifyLimits);
  }
  for (const r of [req, notif]) if (r.status === 'fulfilled') r.value.destroy();
  if (resp.status === 'fulfilled') {
    // The protocol lets us tell the client no: connect answered with an error.
    resp.value.on('error', () => {});
    resp.value.end(encodeResponse(Op.Connect, RESULT_ERROR));
    setTimeout(() => resp.value.destroy(), FLUSH_DEADLINE_MS).unref();
  }
  const failure = [req, resp, notif].find((r) => r.status === 'rejected');
  throw failure?.status === 'rejected' ? failure.reason : new Error('the session was stopped while opening');
}

/** Frame strings are latin1 byte strings: the path's bytes exactly as the client sent them. */
function bytesOf(path: string): Buffer {
  return Buffer.from(path, 'latin1');
}

class SocketClientLink implements ClientLink {
  readonly subscriber: NotificationWriter;
  private handlers: LinkHandlers | null = null;
  private failure: string | null = null;
  private closed = false;
  private readonly reader = new FrameReader('request');

  constructor(
    readonly name: string,
    private readonly req: net.Socket,
    private readonly resp: net.Socket,
    private readonly notif: net.Socket,
    notifyLimits: NotificationLimits,
  ) {
    this.subscriber = new NotificationWriter(notif, notifyLimits, () => this.handlers?.overflow());
    // Listeners from the first moment: an 'error' with no listener would crash the server.
    for (const socket of [req, resp, notif]) socket.on('error', (error: NodeJS.ErrnoException) => this.fail(error.code ?? error.message));
    req.on('end', () => {
      const end = this.reader.end();
      if (end.ok) this.fail('EOF on the request FIFO');
      else this.handlers?.malformed(end.error);
    });
    req.pause();
  }

  respond(op: Op, result: number): void {
    if (this.closed) return;
    if (this.resp.writableLength > RESPONSE_CAP_BYTES) {
      this.handlers?.overflow();
      return;
    }
    this.resp.write(encodeResponse(op, result));
  }

  listen(handlers: LinkHandlers): () => void {
    this.handlers = handlers;
    const onData = (chunk: Buffer) => {
      for (const result of this.reader.push(chunk)) {
        // A handler may end the session mid-chunk (DISCONNECT): the rest is not ours to serve.
        if (this.handlers !== handlers) return;
        if (result.ok) handlers.request(result.value);
        else return handlers.malformed(result.error);
      }
    };
    this.req.on('data', onData);
    this.req.resume();
    if (this.failure !== null) handlers.gone(this.failure);
    return () => {
      this.req.off('data', onData);
      this.req.pause();
      if (this.handlers === handlers) this.handlers = null;
    };
  }

  async close(graceful: boolean): Promise<void> {
    this.handlers = null;
    this.req.destroy();
    const first = !this.closed;
    this.closed = true;
    if (graceful && first && this.failure === null) {
      this.subscriber.flush();
      this.subscriber.stop();
      await Promise.all([endWithin(this.resp, FLUSH_DEADLINE_MS), endWithin(this.notif, FLUSH_DEADLINE_MS)]);
      return;
    }
    // Also cuts short a graceful close still flushing (shutdown after DISCONNECT).
    this.subscriber.stop();
    this.resp.destroy();
    this.notif.destroy();
  }

  private fail(reason: string): void {
    if (this.failure !== null) return;
    this.failure = reason;
    this.handlers?.gone(reason);
  }
}

function endWithin(socket: net.Socket, ms: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end(() => socket.destroy());
  });
}
