/**
 * Whole job files for the differential checker: valid commands of every kind (from
 * job-arbitraries.ts, with short WAITs), comments, blank lines, invalid lines, blanks in odd
 * places, and the limits (40-byte keys and values, 256+ keys in one list, a line past 1 MiB).
 * Strings are byte strings (one char per byte); a job is written as latin1.
 */
import fc from 'fast-check';
import { formatCommand, type Command } from '../../protocol/job-language.js';
import { MAX_STRING_BYTES } from '../../protocol/keys.js';
import { MAX_LINE_BYTES } from '../batch/line-reader.js';
import { commandWith, key, value } from './job-arbitraries.js';

/** The longest WAIT generated: a job must run in a blink. */
const MAX_GENERATED_WAIT_MS = 20;

/**
 * Keys that often repeat (in one WRITE, and from a WRITE to a READ), in both cases, with odd first
 * bytes now and then; and any key.
 */
const repeatingKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('a', 'b', 'c', 'A', 'B', 'k1', '_a') }, { weight: 2, arbitrary: key });

/** Every command, but never a long WAIT. */
const quickCommand: fc.Arbitrary<Command> = commandWith(repeatingKey, value).map((c) => (c.kind === 'wait' ? { kind: 'wait', ms: c.ms % (MAX_GENERATED_WAIT_MS + 1) } : c));

const commandLine = quickCommand.map(formatCommand);

/** A valid command written with blanks where the statement's examples have none (or the reverse). */
const blankedLine = fc.tuple(quickCommand, fc.constantFrom('lead', 'trail', 'after-comma', 'no-space')).map(([c, where]) => {
  const text = formatCommand(c);
  switch (where) {
    case 'lead':
      return `  ${text}`;
    case 'trail':
      return `${text} `;
    case 'after-comma':
      return text.replace(/,/g, ', ');
    default:
      return text.replace(' [', '[');
  }
});

const commentLine = fc.oneof(
  fc.constantFrom('#', '# a comment', '#WRITE [(a,1)]'),
  fc.tuple(quickCommand, fc.constantFrom(' # note', ' #x')).map(([c, note]) => formatCommand(c) + note),
);

const blankLine = fc.constantFrom('', '   ', '\t');

/** Lines the statement does not accept, each close to a valid one. */
const invalidLine = fc.oneof(
  fc.constantFrom('FOO', 'write [(a,1)]', 'SHOWX', 'SHOW x', 'BACKUP 1', 'HELP me', 'WAIT', 'WAIT x', 'WAIT -1', 'WAIT 10 5'),
  fc.constantFrom('READ a', 'READ [a', 'READ []', 'READ [a,]', 'DELETE []', 'DELETE [,a]', 'WRITE []', 'WRITE [(a,1)', 'WRITE (a,1)'),
  fc.constantFrom('WRITE [(a b,c)]', 'WRITE [(a,)]', 'WRITE [(,v)]', 'WRITE [(a,b(c)]', 'WRITE [(a,1)(b)]', 'WRITE [(a,1),(b,2)]'),
  fc.constantFrom('WRITE [(a,KVSERROR)]', 'WRITE [(a,KVSMISSING)]', 'WRITE [(a,DELETED)]'),
  fc.constantFrom(`READ [${'k'.repeat(MAX_STRING_BYTES + 1)}]`, `WRITE [(a,${'v'.repeat(MAX_STRING_BYTES + 1)})]`),
);

/** Keys and values of exactly the limit, accepted by the statement. */
const limitLine = fc.oneof(
  fc.tuple(fc.constantFrom('k', 'a', 'z'), value).map(([c, v]) => `WRITE [(${c.repeat(MAX_STRING_BYTES)},${v})]`),
  fc.tuple(key, fc.constantFrom('v', '1')).map(([k, c]) => `WRITE [(${k},${c.repeat(MAX_STRING_BYTES)})]`),
  fc.constantFrom('k', 'a').map((c) => `READ [${c.repeat(MAX_STRING_BYTES)}]`),
);

/** Lists past the C programs' fixed arrays of 256, and a line past the 1 MiB limit. */
const bigLine = fc.oneof(
  fc.constant(`READ [${Array.from({ length: 300 }, (_, i) => `k${i}`).join(',')}]`),
  fc.constant(`WRITE [${Array.from({ length: 300 }, (_, i) => `(k${i},${i})`).join('')}]`),
  fc.constant(`WRITE [(a,${'x'.repeat(MAX_LINE_BYTES)})]`),
);

const line = fc.oneof(
  { weight: 24, arbitrary: commandLine },
  { weight: 2, arbitrary: blankedLine },
  { weight: 3, arbitrary: commentLine },
  { weight: 2, arbitrary: blankLine },
  { weight: 4, arbitrary: invalidLine },
  { weight: 2, arbitrary: limitLine },
  { weight: 1, arbitrary: fc.oneof({ weight: 5, arbitrary: commandLine }, { weight: 1, arbitrary: bigLine }) },
);

export interface JobShape {
  /** The most lines a job has. */
  readonly maxLines: number;
}

/** A job: lines ending in `\n`, now and then in `\r\n`, now and then with no final newline. */
export function jobArbitrary(shape: JobShape): fc.Arbitrary<string> {
  return fc
    .tuple(fc.array(line, { minLength: 1, maxLength: shape.maxLines }), fc.constantFrom('lf', 'lf', 'lf', 'lf', 'lf', 'lf', 'crlf', 'open'))
    .map(([lines, ending]) => {
      const eol = ending === 'crlf' ? '\r\n' : '\n';
      const text = lines.join(eol) + eol;
      return ending === 'open' ? text.slice(0, -1) : text;
    });
}

/** `runs` jobs, the same for the same seed. */
export function generateJobs(seed: number, runs: number, shape: JobShape): string[] {
  return fc.sample(jobArbitrary(shape), { seed, numRuns: runs });
}
