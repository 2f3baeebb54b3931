/**
 * What a session actor needs of its client's FIFOs: runtime/server/session-fifos.ts is the real one
 * (the server's end of the client's three FIFOs), tests give fakes.
 */
import type { DecodeError, OpCode, RequestFrame } from './frames.js';
import type { Subscriber } from './subscriptions.js';

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
