/** A SessionLink fake for session machine tests: records answers, lets a test play the client. */
import type { Subscriber } from '../../protocol/subscriptions.js';
import type { OpCode } from '../../protocol/frames.js';
import type { LinkHandlers, SessionLink } from '../../protocol/session-link.js';

export class FakeLink implements SessionLink {
  readonly answers: Array<[OpCode, number]> = [];
  readonly notifications: Buffer[] = [];
  readonly subscriber: Subscriber = { notify: (frame) => void this.notifications.push(frame) };
  handlers: LinkHandlers | null = null;
  closedWith: boolean | null = null;

  constructor(readonly name: string) {}

  respond(op: OpCode, result: number): void {
    this.answers.push([op, result]);
  }

  async ready(): Promise<void> {}

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
