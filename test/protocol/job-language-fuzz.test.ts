/**
 * Fuzz: the job-language parser against a small reference model written here, independently of
 * protocol/job-language.ts (regular expressions and splits instead of its one-pass scanner), from
 * docs/DESIGN.md section 2 as the parser implements it. Valid lines parse to what the model says; every
 * mutated or random line is either valid by the model (and parses to the same command) or is
 * reported invalid; parseLine never throws.
 */
import test from 'ava';
import fc from 'fast-check';
import { type Command, MAX_WAIT_MS, formatCommand, parseLine } from '../../protocol/job-language.js';
import { command } from '../../runtime/check/job-arbitraries.js';

type ModelResult = Command | 'invalid' | null;

const BLANK = '[ \\t\\r\\v\\f]';
/** A key or value byte: above space, not DEL, none of ( ) [ ] , (latin1 strings: one char a byte). */
const TOKEN = '[!-\'*+\\--Z\\\\^-~\\x80-\\xff]';
const RESERVED = new Set(['KVSERROR', 'KVSMISSING', 'DELETED']);

function tokenOk(text: string): boolean {
  return new RegExp(`^${TOKEN}{1,40}$`).test(text);
}

/**
 * A trailing comment: a `#` after blanks that follow the complete command. A list command is
 * complete at its first `]`, WAIT after its first word, the others right after their name.
 */
function withoutComment(word: string, rest: string): string {
  const complete =
    word === 'WRITE' || word === 'READ' || word === 'DELETE'
      ? new RegExp(`^([^\\]]*\\])${BLANK}+#`).exec(rest)
      : word === 'WAIT'
        ? new RegExp(`^([^ \\t\\r\\v\\f]*)${BLANK}+#`).exec(rest)
        : /^()#/.exec(rest);
  return complete === null ? rest : complete[1]!;
}

/** The reference model: what a line means, or 'invalid', or null for a blank line or comment. */
function model(line: string): ModelResult {
  const body = line.replace(new RegExp(`^${BLANK}+|${BLANK}+$`, 'g'), '');
  if (body === '' || body.startsWith('#')) return null;
  const head = /^([^ \t\r\v\f[]*)[ \t\r\v\f]*([\s\S]*)$/.exec(body)!;
  const word = head[1]!;
  const rest = withoutComment(word, head[2]!);
  switch (word) {
    case 'SHOW':
    case 'BACKUP':
    case 'HELP':
      return rest === '' ? ({ kind: word.toLowerCase() } as Command) : 'invalid';
    case 'WAIT': {
      if (!/^[0-9]+$/.test(rest)) return 'invalid';
      const ms = Number(rest);
      return ms <= MAX_WAIT_MS ? { kind: 'wait', ms } : 'invalid';
    }
    case 'READ':
    case 'DELETE': {
      const list = /^\[([\s\S]*)\]$/.exec(rest);
      if (list === null) return 'invalid';
      const keys = list[1]!.split(',').map((k) => k.replace(new RegExp(`^${BLANK}+|${BLANK}+$`, 'g'), ''));
      if (!keys.every(tokenOk)) return 'invalid';
      return { kind: word === 'READ' ? 'read' : 'delete', keys };
    }
    case 'WRITE': {
      const list = /^\[([\s\S]*)\]$/.exec(rest);
      if (list === null) return 'invalid';
      const pair = new RegExp(`${BLANK}*\\(${BLANK}*(${TOKEN}+)${BLANK}*,${BLANK}*(${TOKEN}+)${BLANK}*\\)`, 'y');
      const pairs: string[] = [];
      const inner = list[1]!;
      pair.lastIndex = 0;
      let at = 0;
      for (let m = pair.exec(inner); m !== null; m = pair.exec(inner)) {
        pairs.push(m[1]!, m[2]!);
        at = pair.lastIndex;
      }
      if (!new RegExp(`^${BLANK}*$`).test(inner.slice(at)) || pairs.length === 0) return 'invalid';
      for (let i = 0; i < pairs.length; i += 2) {
        if (pairs[i]!.length > 40 || pairs[i + 1]!.length > 40 || RESERVED.has(pairs[i + 1]!)) return 'invalid';
      }
      return { kind: 'write', pairs };
    }
    default:
      return 'invalid';
  }
}

/** The parser's answer in the model's terms; fails the property if it threw. */
function parsed(line: string): ModelResult {
  const result = parseLine(line);
  if (result === null) return null;
  if (result.kind === 'invalid') {
    if (typeof result.reason !== 'string' || result.reason.length === 0) throw new Error(`invalid without a reason for ${JSON.stringify(line)}`);
    return 'invalid';
  }
  return result;
}

const blanks = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 2 });

/** A command's text with blanks added where the language allows them. */
const decorated = fc.tuple(command, blanks, blanks, blanks).map(([cmd, lead, around, trail]) => {
  const text = formatCommand(cmd).replace(/([[\](),])/g, `${around}$1${around}`);
  return { cmd, line: `${lead}${text}${trail}` };
});

/** Bytes that matter to the grammar, plus any latin1 byte now and then. */
const interesting = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('(', ')', '[', ']', ',', ' ', '\t', '#', 'a', '0', '9', 'K', '\r', '\x7f', '\x00') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('WRITE', 'READ', 'DELETE', 'SHOW', 'WAIT', 'BACKUP', 'HELP', 'KVSERROR', 'DELETED') },
);

type Mutation = { at: number; drop: number; insert: string };
const mutation = fc.record({ at: fc.nat(), drop: fc.nat({ max: 3 }), insert: fc.string({ unit: interesting, maxLength: 3 }) });

function mutate(line: string, mutations: readonly Mutation[]): string {
  let text = line;
  for (const { at, drop, insert } of mutations) {
    const i = text.length === 0 ? 0 : at % (text.length + 1);
    text = text.slice(0, i) + insert + text.slice(i + drop);
  }
  return text;
}

test('the model agrees with the parser on known lines (a check of the model itself)', (t) => {
  const lines: Array<[string, ModelResult]> = [
    ['WRITE [(a,b)(c,d)]', { kind: 'write', pairs: ['a', 'b', 'c', 'd'] }],
    ['  READ [ a , b ]\t', { kind: 'read', keys: ['a', 'b'] }],
    ['DELETE[k]', { kind: 'delete', keys: ['k'] }],
    ['WAIT 007', { kind: 'wait', ms: 7 }],
    ['# comment', null],
    ['', null],
    ['WRITE []', 'invalid'],
    ['READ [a,]', 'invalid'],
    ['WRITE [(a,KVSERROR)]', 'invalid'],
    [`READ [${'k'.repeat(41)}]`, 'invalid'],
    ['SHOW x', 'invalid'],
    ['WAIT 2147483648', 'invalid'],
    ['write [(a,b)]', 'invalid'],
  ];
  for (const [line, expected] of lines) {
    t.deepEqual(model(line), expected, `model: ${JSON.stringify(line)}`);
    t.deepEqual(parsed(line), expected, `parser: ${JSON.stringify(line)}`);
  }
});

test('every valid line, with blanks where allowed, parses to the command the model says', (t) => {
  fc.assert(
    fc.property(decorated, ({ cmd, line }) => {
      const expected = model(line);
      return JSON.stringify(expected) === JSON.stringify(cmd) && JSON.stringify(parsed(line)) === JSON.stringify(expected);
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

test('every mutated line is either valid by the model and parses to its command, or is reported invalid; never a throw', (t) => {
  let valid = 0;
  let invalid = 0;
  fc.assert(
    fc.property(decorated, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ line }, mutations) => {
      const text = mutate(line, mutations);
      const expected = model(text);
      const actual = parsed(text);
      if (expected === 'invalid') invalid++;
      else if (expected !== null) valid++;
      return JSON.stringify(actual) === JSON.stringify(expected);
    }),
    { numRuns: 5000 },
  );
  t.log(`mutated lines: ${valid} valid, ${invalid} invalid`);
  t.true(valid > 0 && invalid > 0, 'the mutations reach both valid and invalid lines');
});

test('random byte lines: the parser and the model agree; never a throw', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: interesting, maxLength: 60 }), (text) => JSON.stringify(parsed(text)) === JSON.stringify(model(text))),
    { numRuns: 5000 },
  );
  t.pass();
});
