/**
 * `node runtime/client.js <client_id> <register_fifo> [--compat=course]` (docs/DESIGN.md section 3).
 *
 * Opening order, chosen so that the client never polls and the server always sees it die: the
 * response and notification read ends first (non-blocking, no EOF before the server's writer
 * appears), then the request FIFO O_RDWR (never waits; the server's read end sees a writer from
 * its first moment and an EOF if we are killed at any point after), then the connect request.
 * Exit codes: 0 after DISCONNECT, 1 when the server ends the session or refuses us, 2 bad usage,
 * 128 + the signal's number on SIGINT, SIGTERM or SIGHUP.
 */
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_COMMANDS_TEXT, clientPaths, parseClientLine } from '../../protocol/client-commands.js';
import { FrameReader } from '../../protocol/frame-reader.js';
import { errorMessage } from '../../protocol/guards.js';
import { describeError } from '../../protocol/system-errors.js';
import { OpCode, encode } from '../../protocol/frames.js';
import { display } from '../../protocol/keys.js';
import { isCompat, type Compat } from '../../protocol/compat.js';
import { type ClientConsole, openConsole } from './console.js';
import { dropWritesOnceClosed, exitOnceClosed } from '../os/closed-output.js';
import { type OptionSpec, readArguments } from '../cli/command-line.js';
import { asTyped, versionLine } from '../cli/version.js';
import { lockClientId } from '../os/process-lock.js';
import { FIFO_MODE, FifoError, type FileId, createFifos, hasReader, openOwnWriteEnd, openReadEnd, openWriteEnd, removeOwnFifoSync } from '../os/fifo.js';

/** The command as run from the checkout; the package's `bin` calls it `kvs-client`. */
const CLIENT_PROGRAM = 'node runtime/client.js';
const USAGE = `Usage: ${CLIENT_PROGRAM} <client_id> <register_fifo> [--compat=seed|course]

Connects to an IST-KVS server through <register_fifo>, using the FIFOs /tmp/req<id>, /tmp/resp<id>
and /tmp/notif<id>, and reads commands from stdin (a file, a pipe or a terminal):
${CLIENT_COMMANDS_TEXT}Responses print as 'Server returned <code> for operation: <op>', notifications as (key,value).
Exit status: 0 after DISCONNECT; 1 when the server ends the session, refuses the client or is not
there; 2 bad usage; 130 on Ctrl-C (SIGINT), 143 on SIGTERM, 129 on SIGHUP; 141 when its output is
closed (| head). The FIFOs are removed in every case. --version shows the version.`;
const OP_NAMES: Record<OpCode, string> = { 1: 'connect', 2: 'disconnect', 3: 'subscribe', 4: 'unsubscribe' };
/** While queued for a session, how often to check that the server still holds its FIFO. */
const SERVER_CHECK_MS = 500;
const REGISTER_OPEN_MS = 2000;
/** After DISCONNECT, how long to wait for notifications the server flushed before answering. */
const NOTIF_DRAIN_MS = 1000;
/** The longest timer Node keeps (as the job language's WAIT allows). */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** Queued behind busy sessions this long, the client says it is waiting. */
const WAITING_NOTICE_MS = 1000;
/**
 * A request FIFO still read by the server just after its client died is released within
 * milliseconds (the server sees EOF): held longer than this, a live client holds it.
 */
const HELD_FIFO_GRACE_MS = 1000;

/** Where commands come from and text goes: a prompt on a terminal (runtime/client/console.ts). */
let terminal: ClientConsole | null = null;

function out(text: string): void {
  if (terminal !== null) terminal.print(text);
  else process.stdout.write(Buffer.from(text, 'latin1'));
}

/** A message for a person (text, not a byte string: show bytes from input with display()). */
function fail(text: string): void {
  const line = `kvs-client: ${text}\n`;
  // The console takes byte strings: hand it the message's UTF-8 bytes.
  if (terminal !== null) terminal.print(Buffer.from(line, 'utf8').toString('latin1'), 'stderr');
  else process.stderr.write(line);
}

/** What a SUBSCRIBE or UNSUBSCRIBE result means (docs/DESIGN.md section 3). */
export function resultMeaning(op: 'subscribe' | 'unsubscribe', key: string, result: number, compat: Compat): string {
  const shown = display(key);
  if (op === 'unsubscribe') return result === 0 ? `unsubscribed from ${shown}` : `there was no subscription to ${shown}`;
  const subscribed = result === (compat === 'course' ? 1 : 0);
  return subscribed
    ? `subscribed to ${shown}: each change to it prints as (${shown},value)`
    : `not subscribed: there is no key ${shown}; a WRITE in a .job file creates it`;
}

const CLIENT_OPTIONS: OptionSpec = { values: { compat: '--compat=seed|course' }, flags: new Set(['help', 'version']) };
const CLIENT_HELP_HINT = `run '${CLIENT_PROGRAM} --help' for the usage`;

/** The reason, and one line pointing at --help; exit status 2. */
function badUsage(reason: string): void {
  fail(asTyped(`${reason}\n${CLIENT_HELP_HINT}`, CLIENT_PROGRAM, 'kvs-client'));
  exitAfterFlush(2);
}

/** Exits once stdout is flushed (it is asynchronous when a pipe). */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

export async function runClient(argv: readonly string[]): Promise<void> {
  // Output closed (`client ... | head -1`): the client ends there, its FIFOs removed on exit, as a
  // shell reports a program that wrote into a closed pipe (128 + SIGPIPE's 13).
  exitOnceClosed(process.stdout, () => process.exit(141));
  dropWritesOnceClosed(process.stderr);
  const parsed = readArguments(argv, CLIENT_OPTIONS);
  if (typeof parsed === 'string') return badUsage(parsed);
  if (parsed.flags.has('help') || parsed.flags.has('version')) {
    process.stdout.write(`${parsed.flags.has('help') ? asTyped(USAGE, CLIENT_PROGRAM, 'kvs-client') : versionLine()}\n`);
    return exitAfterFlush(0);
  }
  const [id, registerFifo, ...extra] = parsed.positionals;
  const compat = parsed.values['compat'] ?? 'seed';
  const problem =
    id === undefined ? 'missing <client_id>'
    : registerFifo === undefined ? 'missing <register_fifo>'
    : registerFifo === '' ? 'the registration FIFO path is empty'
    : extra.length > 0 ? `too many arguments: ${extra.join(' ')}`
    : !isCompat(compat) ? `--compat must be seed or course, not '${compat}'`
    : null;
  if (problem !== null || id === undefined || registerFifo === undefined || !isCompat(compat)) return badUsage(problem ?? 'bad arguments');
  const paths = clientPaths(id);
  if ('error' in paths) return badUsage(paths.error);
  // Two clients with one id at the same moment would each take the other's fresh FIFOs for
  // stale: the id's lock first, so that exactly one goes on and the other touches nothing.
  const idLock = await lockClientId(paths.req).catch((error: unknown) => error as Error);
  if (idLock instanceof Error || !idLock.ok) {
    fail(
      idLock instanceof Error ? `cannot lock client id ${id}: ${describeError(idLock)}`
      : `${paths.req}: is in use: another client with id ${id} is running (${idLock.holder === null ? 'it did not say its pid' : `pid ${idLock.holder}`}); use another client id`,
    );
    return exitAfterFlush(1);
  }
  const ours = [paths.req, paths.resp, paths.notif];
  // Only the FIFOs this client made are removed, and only while they are still those very FIFOs.
  let made: FileId[] = [];
  const removeFifos = () => ours.forEach((p, i) => made[i] !== undefined && removeOwnFifoSync(p, made[i]));
  process.on('exit', removeFifos);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      removeFifos();
      process.exit(code);
    });
  }

  let resp: net.Socket, notif: net.Socket, req: net.Socket;
  try {
    made = await createFifos(ours, { mode: FIFO_MODE, inUse: (path) => (path === paths.req ? heldByLiveClient(path, id) : Promise.resolve(null)) });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const advice = code === 'not-a-fifo' || code === 'in-use' ? '; use another client id' : '';
    fail(`${errorMessage(error)}${advice}`);
    return exitAfterFlush(1);
  }
  try {
    resp = await openReadEnd(paths.resp);
    notif = await openReadEnd(paths.notif);
    req = await openOwnWriteEnd(paths.req);
  } catch (error) {
    fail(errorMessage(error));
    return exitAfterFlush(1);
  }
  await new Client(compat, registerFifo, paths, req, resp, notif).run();
}

/**
 * Whether a live client uses the id: its request FIFO has a reader (the client itself holds it
 * O_RDWR, and a session the server) that does not go away within a grace period. A FIFO nobody
 * holds is stale, left by a client that was killed.
 */
async function heldByLiveClient(path: string, id: string): Promise<string | null> {
  const deadline = Date.now() + HELD_FIFO_GRACE_MS;
  while (await hasReader(path)) {
    if (Date.now() > deadline) return `is in use: another client with id ${id} is running`;
    await sleep(50);
  }
  return null;
}

class Client {
  private readonly waiting: Array<{ op: OpCode; resolve: (result: number) => void }> = [];
  private disconnecting = false;
  private ended = false;
  private notifEnded: Promise<void>;

  constructor(
    private readonly compat: Compat,
    private readonly registerFifo: string,
    private readonly paths: { req: string; resp: string; notif: string },
    private readonly req: net.Socket,
    private readonly resp: net.Socket,
    private readonly notif: net.Socket,
  ) {
    const responses = new FrameReader('response');
    resp.on('data', (chunk: Buffer) => {
      for (const r of responses.push(chunk)) {
        const waiter = this.waiting.shift();
        if (!r.ok || waiter === undefined || r.value.op !== waiter.op) return this.serverGone('the server sent an unexpected response');
        out(`Server returned ${r.value.result} for operation: ${OP_NAMES[r.value.op]}\n`);
        waiter.resolve(r.value.result);
      }
    });
    const notifications = new FrameReader('notification');
    notif.on('data', (chunk: Buffer) => {
      for (const r of notifications.push(chunk)) {
        if (!r.ok) return this.serverGone(`a malformed notification (${r.error.message})`);
        out(`(${r.value.key},${r.value.value})\n`);
      }
    });
    this.notifEnded = new Promise((resolve) => notif.once('end', resolve));
    for (const socket of [resp, notif]) socket.on('end', () => this.serverGone('the server closed the session', socket === notif));
    for (const socket of [req, resp, notif]) socket.on('error', (e: Error) => this.serverGone(`the session failed: ${e.message}`, socket === notif));
  }

  async run(): Promise<void> {
    if (!(await this.connect())) return;
    // Ctrl-C at the prompt reaches readline, not the process: raise the signal the client handles.
    terminal = openConsole({ input: process.stdin, output: process.stdout, onInterrupt: () => process.kill(process.pid, 'SIGINT') });
    let n = 0;
    for await (const line of terminal.lines) {
      n++;
      const parsed = parseClientLine(line);
      if (!parsed.ok) {
        fail(`line ${n}: ${display(parsed.reason)}`);
        continue;
      }
      const command = parsed.command;
      switch (command.kind) {
        case 'skip':
          break;
        case 'subscribe':
        case 'unsubscribe': {
          const result = await this.request(command.kind === 'subscribe' ? OpCode.Subscribe : OpCode.Unsubscribe, encode({ kind: command.kind, key: command.key }));
          // The course's line stays as it is; a person at a terminal is also told what it means.
          if (process.stderr.isTTY === true) fail(resultMeaning(command.kind, command.key, result, this.compat));
          break;
        }
        case 'help':
          out(CLIENT_COMMANDS_TEXT);
          break;
        case 'delay': {
          const ms = this.compat === 'course' ? command.amount : command.amount * 1000;
          // A timer takes at most 2^31 - 1 ms; past that Node fires it at once, with a warning.
          if (ms > MAX_DELAY_MS) {
            const longest = this.compat === 'course' ? `${MAX_DELAY_MS}` : `${Math.floor(MAX_DELAY_MS / 1000)}`;
            fail(`line ${n}: DELAY ${command.amount} is longer than the longest delay, ${longest}`);
            break;
          }
          out('Waiting...\n');
          await sleep(ms);
          break;
        }
        case 'disconnect':
          return this.disconnect();
      }
    }
    return this.disconnect();
  }

  private async connect(): Promise<boolean> {
    const register = await openWriteEnd(this.registerFifo, AbortSignal.timeout(REGISTER_OPEN_MS)).catch((error: unknown) => {
      const code = (error as { code?: string }).code;
      this.serverGone(
        code === 'missing' ? `no server is serving ${this.registerFifo} (there is no such file)`
        : code === 'aborted' ? `no server is serving ${this.registerFifo} (nothing reads it)`
        : `cannot connect through ${this.registerFifo}: ${error instanceof FifoError ? error.reason : describeError(error)}`,
      );
      return null;
    });
    if (register === null) return false;
    register.on('error', () => {});
    const latin1 = (p: string) => Buffer.from(p, 'utf8').toString('latin1');
    const frame = encode({ kind: 'connect', reqPipe: latin1(this.paths.req), respPipe: latin1(this.paths.resp), notifPipe: latin1(this.paths.notif) });
    const answered = this.expect(OpCode.Connect);
    register.end(frame);
    // Queued behind S sessions we may wait long; a server killed meanwhile never opens our FIFOs.
    const watch = setInterval(() => {
      hasReader(this.registerFifo).then(
        (alive) => alive || this.serverGone('the server went away while we waited for a session'),
        () => this.serverGone('the server went away while we waited for a session'),
      );
    }, SERVER_CHECK_MS);
    const notice = setTimeout(() => fail(`waiting for a free session on ${this.registerFifo} (every session is busy)`), WAITING_NOTICE_MS);
    const result = await answered;
    clearTimeout(notice);
    clearInterval(watch);
    if (result !== 0) {
      fail('the server refused the session (it is shutting down, or one of our FIFOs is in use)');
      this.end(1);
      return false;
    }
    return true;
  }

  private expect(op: OpCode): Promise<number> {
    return new Promise((resolve) => this.waiting.push({ op, resolve }));
  }

  private request(op: OpCode, frame: Buffer): Promise<number> {
    const answered = this.expect(op);
    this.req.write(frame);
    return answered;
  }

  private async disconnect(): Promise<void> {
    this.disconnecting = true;
    await this.request(OpCode.Disconnect, encode({ kind: 'disconnect' }));
    await Promise.race([this.notifEnded, sleep(NOTIF_DRAIN_MS)]);
    this.end(0);
  }

  /** `fromNotif`: told by the notification FIFO, which may end before the answer on the response FIFO is read. */
  private serverGone(reason: string, fromNotif = false): void {
    if (this.ended) return;
    if (this.disconnecting) {
      // Answered, the server closing the FIFOs is the end of a DISCONNECT; the response FIFO
      // ending unanswered means the server went away meanwhile (killed, or gone at that moment),
      // and no answer will ever come.
      if (!fromNotif && this.waiting.some((w) => w.op === OpCode.Disconnect)) {
        fail('the server closed the session before answering DISCONNECT');
        this.end(1);
      }
      return;
    }
    this.disconnecting = true;
    fail(reason);
    this.end(1);
  }

  private end(code: number): void {
    if (this.ended) return;
    this.ended = true;
    terminal?.close();
    for (const socket of [this.req, this.resp, this.notif]) socket.destroy();
    exitAfterFlush(code);
  }
}
