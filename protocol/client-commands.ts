/**
 * The client's command language (docs/DESIGN.md section 3): one command a line, `#` comments and blank
 * lines ignored, and a comment after a complete command and a blank, as in job files. Lines are
 * latin1 byte strings, like job files, so any key goes out byte for byte.
 */
import { JOB_COMMANDS } from './job-language.js';
import { MAX_STRING_BYTES, checkToken } from './keys.js';
import { didYouMean } from './suggest.js';

export type ClientCommand =
  | { kind: 'subscribe'; key: string }
  | { kind: 'unsubscribe'; key: string }
  | { kind: 'delay'; amount: number }
  | { kind: 'disconnect' }
  | { kind: 'help' }
  | { kind: 'skip' };

/** The client's command words. */
const CLIENT_COMMANDS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'DELAY', 'DISCONNECT', 'HELP'] as const;

/** Where the data changes: said by HELP and to a job command typed at the client. */
const DATA_POINTER = "keys are written, read and deleted by .job files (WRITE, READ, DELETE, SHOW, ...) in the server's jobs folder";

/** What the client can do: HELP's answer, and the heart of `--help`. */
export const CLIENT_COMMANDS_TEXT =
  '  SUBSCRIBE <key>      be told of every change to the key (SUBSCRIBE [key] works too)\n' +
  '  UNSUBSCRIBE <key>    stop being told\n' +
  '  DELAY <n>            wait n seconds (milliseconds with --compat=course)\n' +
  '  DISCONNECT           end the session; so does the end of input (Ctrl-D)\n' +
  '  HELP                 this list\n' +
  `The client only watches keys: ${DATA_POINTER}.\n`;

export type ParsedClientLine = { ok: true; command: ClientCommand } | { ok: false; reason: string };

/**
 * Blanks as the job language has them (space, tab, CR, VT, FF). Not `\s` or trim(): lines are
 * latin1, and those also take byte 0xA0 (NBSP), which ends many UTF-8 characters (`à` is C3 A0).
 */
const BLANKS = '[ \\t\\r\\v\\f]';
const BLANK_RUN = new RegExp(`${BLANKS}+`);
const TRIM = new RegExp(`^${BLANKS}+|${BLANKS}+$`, 'g');
/** `SUBSCRIBE k`, `SUBSCRIBE [k]`, and `SUBSCRIBE[k]` as the job language takes `READ[k]`. */
const KEY_COMMAND = new RegExp(`^(SUBSCRIBE|UNSUBSCRIBE)(?:${BLANKS}*\\[([^\\]]*)\\]|${BLANKS}+([^ \\t\\r\\v\\f]+))$`);
/** The command word: up to the first blank or bracket. */
const WORD = /^[^ \t\r\v\f[]*/;

/** A blank and a `#`: where a comment may start after a complete command. */
const COMMENT = new RegExp(`${BLANKS}#`);

export function parseClientLine(raw: string): ParsedClientLine {
  const whole = parseCommand(raw);
  if (whole.ok) return whole;
  // A comment after a complete command and a blank, as job files have them (`SUBSCRIBE k # why`).
  const comment = COMMENT.exec(raw);
  if (comment === null) return whole;
  const before = parseCommand(raw.slice(0, comment.index));
  return before.ok && before.command.kind !== 'skip' ? before : whole;
}

function parseCommand(raw: string): ParsedClientLine {
  const line = raw.replace(TRIM, '');
  if (line === '' || line.startsWith('#')) return { ok: true, command: { kind: 'skip' } };
  const word = WORD.exec(line)![0];
  const args = line.slice(word.length).replace(TRIM, '').split(BLANK_RUN).filter((arg) => arg !== '');
  switch (word) {
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE': {
      const match = KEY_COMMAND.exec(line);
      const key = (match?.[2] ?? match?.[3] ?? '').replace(TRIM, '');
      if (match === null || key === '') return { ok: false, reason: `usage: ${word} <key> or ${word} [<key>]` };
      // The job language's rule for keys: a key no job could write is refused here, not sent.
      const problem = checkToken(key, 'key');
      if (problem !== null) return { ok: false, reason: problem };
      return { ok: true, command: { kind: word === 'SUBSCRIBE' ? 'subscribe' : 'unsubscribe', key } };
    }
    case 'DELAY': {
      if (args.length !== 1 || !/^[0-9]+$/.test(args[0] ?? '')) return { ok: false, reason: 'usage: DELAY <n>' };
      return { ok: true, command: { kind: 'delay', amount: Number(args[0]) } };
    }
    case 'DISCONNECT':
    case 'HELP':
      if (args.length !== 0) return { ok: false, reason: `${word} takes no arguments` };
      return { ok: true, command: { kind: word === 'DISCONNECT' ? 'disconnect' : 'help' } };
    default: {
      const jobCommand = JOB_COMMANDS.find((command) => command === word.toUpperCase() && command !== 'HELP');
      if (jobCommand !== undefined) return { ok: false, reason: `${jobCommand} is a job command, not the client's: ${DATA_POINTER} (HELP lists the client's commands)` };
      const close = didYouMean(word, CLIENT_COMMANDS);
      return { ok: false, reason: `unknown command '${word}'${close === '' ? ` (${CLIENT_COMMANDS.join(', ')})` : close}` };
    }
  }
}

/** The longest of the client's FIFO paths is this and the id. */
const NOTIF_PREFIX = '/tmp/notif';

/** The client's FIFO paths for an id, or why the id cannot be used. */
export function clientPaths(id: string): { req: string; resp: string; notif: string } | { error: string } {
  if (id === '' || /[/\0]/.test(id)) return { error: `client id '${id}' must be non-empty with no '/'` };
  const paths = { req: `/tmp/req${id}`, resp: `/tmp/resp${id}`, notif: `${NOTIF_PREFIX}${id}` };
  if (Buffer.byteLength(paths.notif, 'utf8') > MAX_STRING_BYTES) {
    // The id is said in its own measure: its FIFO paths must fit the protocol's field.
    const longestId = MAX_STRING_BYTES - Buffer.byteLength(NOTIF_PREFIX, 'utf8');
    return { error: `client id '${id}' is too long (${Buffer.byteLength(id, 'utf8')} bytes): the longest id that fits is ${longestId} bytes, as ${NOTIF_PREFIX}<id> must fit the protocol's ${MAX_STRING_BYTES}` };
  }
  return paths;
}
