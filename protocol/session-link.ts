/**
 * What a session actor needs of its client's FIFOs: runtime/server/session-fifos.ts is the real one
 * (the server's end of the client's three FIFOs), tests give fakes.
 */
import type { DecodeError, OpCode, RequestFrame } from './frames.js';

/** Takes an 82-byte notification; must not throw and must not call back into the registry. */
export interface Subscriber {
  notify(frame: Buffer): void;
}

/**
 * The code of the error opening a link throws when the connect request names a FIFO the server or
 * another session uses: the session logs it as a refused connect (the path is in the message).
 */
export const LINK_REFUSED = 'refused';

/** Whether opening a link failed by refusal (LINK_REFUSED), not by a FIFO that could not be opened. */
export function isRefusal(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === LINK_REFUSED;
}

export interface LinkHandlers {
  request(frame: RequestFrame): void;
  malformed(error: DecodeError): void;
  gone(reason: string): void;
  overflow(): void;
}

export interface SessionLink {
  readonly name: string;
  /** Valid once `ready()` has resolved. */
  readonly subscriber: Subscriber;
  respond(op: OpCode, result: number): void;
  /** Resolves once the client has opened its request and notification FIFOs too. */
  ready(signal: AbortSignal): Promise<void>;
  /** Starts delivering events; returns the way to stop. */
  listen(handlers: LinkHandlers): () => void;
  /** Graceful: flush queued responses and notifications first (bounded by a deadline). */
  close(graceful: boolean): Promise<void>;
}
