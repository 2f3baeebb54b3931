/**
 * The scripted client sessions of `check.js server`: each starts a server on a jobs folder (whose
 * jobs run at start, as in the course: their WAITs give the clients time to subscribe before a
 * WRITE notifies them), then drives clients step by step, each step waiting for the line it
 * expects (or its deadline) before the next, so that a transcript does not depend on timing.
 */

export type Step =
  /** Start a client; it must say that it connected. */
  | { readonly client: string; readonly start: true }
  /** Send a line to a client's stdin and wait for the line it should print. */
  | { readonly client: string; readonly send: string; readonly expect: RegExp }
  /** Wait for a notification: for the step's deadline after the jobs' WAIT. */
  | { readonly client: string; readonly notified: RegExp }
  /** Wait for a client to exit, after DISCONNECT or when the server ends its session. */
  | { readonly client: string; readonly exit: true }
  | { readonly client: string; readonly kill: 'SIGKILL' }
  | { readonly server: 'SIGUSR1' };

export interface Session {
  readonly name: string;
  readonly what: string;
  /**
   * Job files in the server's folder at start. `start.job` makes the keys and SHOWs them: the
   * first client starts once `start.out` is written, so that a fast client cannot subscribe
   * before the keys exist.
   */
  readonly jobs: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
}

/** The job whose `.out` says that the keys exist. */
export const START_JOB = 'start.job';
const START = 'WRITE [(a,1)(b,2)]\nSHOW\n';
/** Long enough for the clients to start and subscribe on a loaded machine. */
export const WAIT_BEFORE_CHANGES_MS = 12_000;
const CHANGES = { [START_JOB]: START, 'changes.job': `WAIT ${WAIT_BEFORE_CHANGES_MS}\nWRITE [(a,9)]\nDELETE [b]\n` };

const answer = (op: string) => new RegExp(`for operation: ${op}$`);
const connect = (client: string): Step => ({ client, start: true });
const ask = (client: string, line: string, op: string): Step => ({ client, send: line, expect: answer(op) });
const notified = (client: string, pattern: RegExp): Step => ({ client, notified: pattern });
const disconnect = (client: string): Step[] => [ask(client, 'DISCONNECT', 'disconnect'), { client, exit: true }];

export const SESSIONS: readonly Session[] = [
  {
    name: 'subscribe-notify',
    what: 'a client subscribes to two keys, is told of a WRITE and a DELETE, unsubscribes and disconnects',
    jobs: CHANGES,
    steps: [
      connect('c1'),
      ask('c1', 'SUBSCRIBE [a]', 'subscribe'),
      ask('c1', 'SUBSCRIBE [b]', 'subscribe'),
      notified('c1', /^\(a,/),
      notified('c1', /^\(b,/),
      ask('c1', 'UNSUBSCRIBE [a]', 'unsubscribe'),
      ...disconnect('c1'),
    ],
  },
  {
    name: 'missing-key',
    what: 'a SUBSCRIBE and an UNSUBSCRIBE of a key that does not exist',
    jobs: { [START_JOB]: START },
    steps: [connect('c1'), ask('c1', 'SUBSCRIBE [zz]', 'subscribe'), ask('c1', 'UNSUBSCRIBE [zz]', 'unsubscribe'), ...disconnect('c1')],
  },
  {
    name: 'two-clients',
    what: 'two clients subscribed to one key are both told of its change',
    jobs: CHANGES,
    steps: [
      connect('c1'),
      connect('c2'),
      ask('c1', 'SUBSCRIBE [a]', 'subscribe'),
      ask('c2', 'SUBSCRIBE [a]', 'subscribe'),
      notified('c1', /^\(a,/),
      notified('c2', /^\(a,/),
      ...disconnect('c1'),
      ...disconnect('c2'),
    ],
  },
  {
    name: 'client-killed',
    what: 'a client killed with SIGKILL does not stop the server serving the next one',
    jobs: CHANGES,
    steps: [connect('c1'), ask('c1', 'SUBSCRIBE [a]', 'subscribe'), { client: 'c1', kill: 'SIGKILL' }, connect('c2'), ask('c2', 'SUBSCRIBE [a]', 'subscribe'), notified('c2', /^\(a,/), ...disconnect('c2')],
  },
  {
    name: 'sigusr1',
    what: "SIGUSR1 to the server ends every session; a new client is served after",
    jobs: { [START_JOB]: START },
    steps: [connect('c1'), ask('c1', 'SUBSCRIBE [a]', 'subscribe'), { server: 'SIGUSR1' }, { client: 'c1', exit: true }, connect('c2'), ask('c2', 'SUBSCRIBE [a]', 'subscribe'), ...disconnect('c2')],
  },
];
