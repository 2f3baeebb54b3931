/**
 * The server's end of one client's three FIFOs, for a session (the SessionLink of
 * protocol/session-link.ts): the request FIFO it reads, the response and the notification FIFOs it
 * writes.
 *
 * The order of the opens matters. The course's client writes its connect request, opens its
 * response FIFO, reads the answer, and only then opens its request and notification FIFOs, all
 * with blocking opens; other clients open them in other orders, before or after the answer. So
 * `openSessionFifos` opens the request read end at once (a client blocked opening its write end goes
 * on), starts opening the notification write end, and returns as soon as the response FIFO is
 * open, when the session answers connect. `ready()` then waits, within the handshake deadline, for
 * the client's writer on the request FIFO and its reader on the notification FIFO: a client that
 * does not open both in time loses its session. Every open is non-blocking (fifo.ts).
 *
 * The three FIFOs are claimed by device and inode for the session's life (fifo-claims.ts): a
 * request naming a FIFO in use is refused, with an error answer when its response FIFO is its own.
 */
import type net from 'node:net';
import { FrameReader } from '../../protocol/frame-reader.js';
import { type ConnectFrame, OpCode, RESULT_ERROR, encodeResponse } from '../../protocol/frames.js';
import type { LinkHandlers, SessionLink } from '../../protocol/session-link.js';
import type { Subscriber } from '../../protocol/session-link.js';
import { errorMessage } from '../../protocol/guards.js';
import { TRACE_LINKS, traceLink } from '../observe/debug.js';
import { FifoError, endWithin, fifoId, openReadEndWithWriter, openWriteEnd } from '../os/fifo.js';
import type { FifoClaims } from './fifo-claims.js';
import type { NotificationLimits } from '../../protocol/notification-limits.js';
import { NotificationWriter } from './notification-writer.js';

/**
 * Requests served per turn of the event loop: a client that sends thousands at once (20,000
 * SUBSCRIBEs) is served a slice at a time, so the other clients wait a slice, not all of it.
 */
const REQUESTS_PER_TURN = 32;
/** Responses are 2 bytes: a client this far behind is flooding requests without reading answers. */
const RESPONSE_CAP_BYTES = 64 * 1024;
/** How long a DISCONNECT may take to flush what is queued before the FIFOs are simply closed. */
const FLUSH_DEADLINE_MS = 1000;

export type SessionFifosOptions = {
  handshakeMs: number;
  notifyLimits: NotificationLimits;
  signal: AbortSignal;
  claims: FifoClaims;
  /** Who asks, for messages: `session 2`. */
  owner: string;
};

/**
 * Resolves once the client's response FIFO is open (answer connect then); rejects when the client
 * is refused (after answering it with an error if its response FIFO is its own) or does not open
 * its response FIFO within the deadline.
 */
export async function openSessionFifos(request: ConnectFrame, options: SessionFifosOptions): Promise<SessionLink> {
  const { claims, owner } = options;
  const reqPath = bytesOf(request.reqPipe);
  const respPath = bytesOf(request.respPipe);
  const notifPath = bytesOf(request.notifPipe);
  const who = `${owner} (${request.reqPipe})`;
  if (TRACE_LINKS) traceLink(`${who}: takes the connect request`);
  // The response FIFO first: a refusal can only be told there, and only when it is the client's own.
  const respId = await fifoId(respPath);
  const releaseResp = claims.claim([{ path: respPath, id: respId, what: `the response FIFO of ${owner}` }]);
  let releaseRest = () => {};
  const release = () => {
    releaseResp();
    releaseRest();
  };
  // A timer of our own, not AbortSignal.any([signal, AbortSignal.timeout(ms)]): on Node 20 a garbage
  // collection takes the timeout signal that only the combined one refers to, and its deadline
  // never comes. A session then waited for good on a dead client's response FIFO, holding its
  // request FIFO open (scripts/handshake-kills.ts caught it).
  const expiry = new AbortController();
  const timer = setTimeout(() => expiry.abort(new Error(`the response FIFO had no reader within ${options.handshakeMs} ms`)), options.handshakeMs);
  const cancel = () => expiry.abort(options.signal.reason);
  options.signal.addEventListener('abort', cancel, { once: true });
  if (options.signal.aborted) cancel();
  const deadline = expiry.signal;
  try {
    let ids;
    try {
      ids = await Promise.all([fifoId(reqPath), fifoId(notifPath)]);
      releaseRest = claims.claim([
        { path: reqPath, id: ids[0], what: `the request FIFO of ${owner}` },
        { path: notifPath, id: ids[1], what: `the notification FIFO of ${owner}` },
      ]);
    } catch (error) {
      const resp = await openWriteEnd(respPath, deadline, respId).catch(() => null);
      if (resp !== null) answerNo(resp);
      throw error;
    }
    // Both started before the response FIFO is awaited: a client may open these first, blocking.
    const join = new AbortController();
    const reqEnd = await openReadEndWithWriter(reqPath, join.signal, ids[0]);
    const notifOpening = openWriteEnd(notifPath, join.signal, ids[1]);
    notifOpening.catch(() => {});
    try {
      const resp = await openWriteEnd(respPath, deadline, respId);
      if (TRACE_LINKS) traceLink(`${who}: response FIFO open, connect is answered`);
      return new SessionFifos(request.reqPipe, resp, { reqEnd, notifOpening, join, release, who, handshakeMs: options.handshakeMs, notifyLimits: options.notifyLimits });
    } catch (error) {
      join.abort(error);
      reqEnd.close();
      void notifOpening.then((socket) => socket.destroy(), () => {});
      throw error;
    }
  } catch (error) {
    release();
    if (TRACE_LINKS) traceLink(`${who}: not opened: ${errorMessage(error)}`);
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', cancel);
  }
}

/** The protocol lets us tell the client no: connect answered with an error. */
function answerNo(resp: net.Socket): void {
  void endWithin(resp, FLUSH_DEADLINE_MS, encodeResponse(OpCode.Connect, RESULT_ERROR));
}

/** Frame strings are latin1 byte strings: the path's bytes exactly as the client sent them. */
function bytesOf(path: string): Buffer {
  return Buffer.from(path, 'latin1');
}

type Joining = {
  reqEnd: Awaited<ReturnType<typeof openReadEndWithWriter>>;
  notifOpening: Promise<net.Socket>;
  join: AbortController;
  release: () => void;
  /** `session 2 (/tmp/req1)`, for traces. */
  who: string;
  handshakeMs: number;
  notifyLimits: NotificationLimits;
};

class SessionFifos implements SessionLink {
  private handlers: LinkHandlers | null = null;
  private failure: string | null = null;
  private closed = false;
  private readonly reader = new FrameReader('request');
  private req: net.Socket | null = null;
  private notif: net.Socket | null = null;
  private writer: NotificationWriter | null = null;
  /** Request bytes the client sent before the session listened. */
  private early: Buffer | null = null;
  /** Answers given in this turn, not yet written: written together, in order (writeAnswers). */
  private answers: Buffer[] = [];
  private answerBytes = 0;

  constructor(
    readonly name: string,
    private readonly resp: net.Socket,
    private readonly joining: Joining,
  ) {
    // Listeners from the first moment: an 'error' with no listener would crash the server.
    resp.on('error', (error: NodeJS.ErrnoException) => this.fail(error.code ?? error.message));
  }

  get subscriber(): Subscriber {
    if (this.writer === null) throw new Error('the link is not ready');
    return this.writer;
  }

  async ready(signal: AbortSignal): Promise<void> {
    const { reqEnd, notifOpening, join, handshakeMs } = this.joining;
    // The deadline counts from the answer: the course's client opens these only after reading it.
    const timer = setTimeout(() => join.abort(new FifoError('aborted', this.name, `the client did not open its request and notification FIFOs within ${handshakeMs} ms of the answer`)), handshakeMs);
    const onAbort = () => join.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const reqWaiting = reqEnd.waitForWriter();
    try {
      const [req, notif] = await Promise.all([reqWaiting, notifOpening]).catch((error: unknown) => {
        if (TRACE_LINKS) traceLink(`${this.joining.who}: not joined: ${errorMessage(join.signal.reason ?? error)}`);
        // One may have opened while the other failed: it is closed here, not left open.
        join.abort(error);
        void reqWaiting.then((r) => r.socket.destroy(), () => {});
        void notifOpening.then((socket) => socket.destroy(), () => {});
        throw join.signal.reason instanceof Error ? join.signal.reason : error;
      });
      if (this.closed) {
        req.socket.destroy();
        notif.destroy();
        throw new Error('the session was closed while the client opened its FIFOs');
      }
      this.attach(req.socket, req.first, notif);
      if (TRACE_LINKS) traceLink(`${this.joining.who}: joined`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private attach(req: net.Socket, first: Buffer | null, notif: net.Socket): void {
    this.req = req;
    this.notif = notif;
    this.early = first;
    this.writer = new NotificationWriter(notif, this.joining.notifyLimits, () => this.handlers?.overflow());
    for (const socket of [req, notif]) socket.on('error', (error: NodeJS.ErrnoException) => this.fail(error.code ?? error.message));
    req.on('end', () => {
      const end = this.reader.end();
      if (end.ok) this.fail('EOF on the request FIFO');
      else this.handlers?.malformed(end.error);
    });
    req.pause();
  }

  /**
   * Answers are gathered and written once per turn, in a microtask after the requests served in it
   * (up to REQUESTS_PER_TURN): one system call for 32 SUBSCRIBEs instead of 32. A DISCONNECT's
   * answer is written at once, with those gathered before it: the session then ends its
   * subscriptions, which must not delay it. `close` writes what is gathered before it ends or
   * destroys the FIFO, so no answer is lost.
   */
  respond(op: OpCode, result: number): void {
    if (this.closed) return;
    if (this.resp.writableLength + this.answerBytes > RESPONSE_CAP_BYTES) {
      this.handlers?.overflow();
      return;
    }
    const frame = encodeResponse(op, result);
    if (this.answers.length === 0) queueMicrotask(this.writeAnswers);
    this.answers.push(frame);
    this.answerBytes += frame.length;
    if (op === OpCode.Disconnect) this.writeAnswers();
  }

  private readonly writeAnswers = (): void => {
    if (this.answers.length === 0) return;
    const chunk = this.answers.length === 1 ? this.answers[0]! : Buffer.concat(this.answers, this.answerBytes);
    this.answers = [];
    this.answerBytes = 0;
    this.resp.write(chunk);
  };

  listen(handlers: LinkHandlers): () => void {
    const req = this.req;
    if (req === null) throw new Error('the link is not ready');
    this.handlers = handlers;
    let later: NodeJS.Immediate | null = null;
    const serve = (): void => {
      later = null;
      for (let n = 0; n < REQUESTS_PER_TURN; n++) {
        // A handler may end the session mid-chunk (DISCONNECT): the rest is not ours to serve.
        if (this.handlers !== handlers) return;
        const result = this.reader.next();
        if (result === undefined) {
          req.resume();
          return;
        }
        if (result.ok) handlers.request(result.value);
        else return handlers.malformed(result.error);
      }
      // More may be waiting: served next turn, after the other clients, reading nothing more meanwhile.
      req.pause();
      later = setImmediate(serve);
    };
    const onData = (chunk: Buffer) => {
      this.reader.append(chunk);
      if (later === null) serve();
    };
    if (this.early !== null) {
      const early = this.early;
      this.early = null;
      onData(early);
    }
    req.on('data', onData);
    req.resume();
    if (this.failure !== null) handlers.gone(this.failure);
    return () => {
      if (later !== null) clearImmediate(later);
      req.off('data', onData);
      req.pause();
      if (this.handlers === handlers) this.handlers = null;
    };
  }

  async close(graceful: boolean): Promise<void> {
    // The answers of this turn first (a DISCONNECT's among them): written, as each was before.
    this.writeAnswers();
    this.handlers = null;
    const first = !this.closed;
    this.closed = true;
    const { reqEnd, notifOpening, join, release, who } = this.joining;
    if (TRACE_LINKS) traceLink(`${who}: closing${graceful ? ', flushing first' : ''}${first ? '' : ' (again)'}`);
    join.abort(new Error('the session ended'));
    reqEnd.close();
    if (this.notif === null) void notifOpening.then((socket) => socket.destroy(), () => {});
    this.req?.destroy();
    try {
      if (graceful && first && this.failure === null && this.writer !== null && this.notif !== null) {
        this.writer.flush();
        this.writer.stop();
        await Promise.all([endWithin(this.resp, FLUSH_DEADLINE_MS), endWithin(this.notif, FLUSH_DEADLINE_MS)]);
        return;
      }
      // Also cuts short a graceful close still flushing (shutdown after DISCONNECT).
      this.writer?.stop();
      this.resp.destroy();
      this.notif?.destroy();
    } finally {
      release();
    }
  }

  private fail(reason: string): void {
    if (this.failure !== null) return;
    if (TRACE_LINKS) traceLink(`${this.joining.who}: gone: ${reason}`);
    this.failure = reason;
    this.handlers?.gone(reason);
  }
}

