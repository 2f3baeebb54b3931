/** A SessionLink fake for session machine tests: records answers, lets a test play the client. */
import type { Subscriber } from '../../protocol/session-link.js';
import type { OpCode } from '../../protocol/frames.js';
import type { LinkHandlers, SessionLink } from '../../protocol/session-link.js';

export class FakeLink implements SessionLink {
  readonly answers: Array<[OpCode, number]> = [];
  readonly notifications: Buffer[] = [];
  handlers: LinkHandlers | null = null;
  closedWith: boolean | null = null;
  private joined = false;
  private readonly writer: Subscriber = { notify: (frame) => void this.notifications.push(frame) };

  /** `join`: what `ready()` waits for (the client opening its other FIFOs); by default nothing. */
  constructor(
    readonly name: string,
    private readonly join: (signal: AbortSignal) => Promise<void> = async () => {},
  ) {}

  /** As the real link (runtime/server/session-fifos.ts): there is no subscriber before `ready()` resolves. */
  get subscriber(): Subscriber {
    if (!this.joined) throw new Error('the link is not ready');
    return this.writer;
  }

  respond(op: OpCode, result: number): void {
    this.answers.push([op, result]);
  }

  async ready(signal: AbortSignal): Promise<void> {
    await this.join(signal);
    this.joined = true;
  }

  listen(handlers: LinkHandlers): () => void {
    this.handlers = handlers;
    return () => {
      this.handlers = null;
    };
  }

  async close(graceful: boolean): Promise<void> {
    this.closedWith ??= graceful;
  }
}
