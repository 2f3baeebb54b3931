/**
 * The known classes of difference between a course implementation in C and this project, as
 * measured (docs/check.md, from the course-C measurements): each with the smallest job that shows
 * it and what the statement says. `classify` names the class of a shrunk difference from its job
 * and its outputs; the first class whose test holds wins, so the specific come before the general.
 */
import { parseLine } from '../../protocol/job-language.js';
import { MAX_STRING_BYTES, RESERVED_VALUES } from '../../protocol/keys.js';
import { MAX_LINE_BYTES } from '../batch/line-reader.js';
import { splitLines, type Difference } from './difference.js';

export interface KnownClass {
  readonly name: string;
  /** What the difference is, in a few words. */
  readonly title: string;
  /** What the statement (or this project's documented rule) says. */
  readonly statement: string;
}

interface ClassTest extends KnownClass {
  readonly test: (job: JobView, difference: Difference) => boolean;
}

/** A job's lines, parsed once by this project's parser. */
interface JobView {
  readonly text: string;
  readonly lines: readonly string[];
  readonly parsed: readonly ReturnType<typeof parseLine>[];
}

function view(text: string): JobView {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { text, lines, parsed: lines.map((line) => parseLine(line)) };
}

/** Every key and value of the job's valid commands. */
function tokens(job: JobView): string[] {
  return job.parsed.flatMap((c) => (c === null ? [] : c.kind === 'write' ? [...c.pairs] : c.kind === 'read' || c.kind === 'delete' ? [...c.keys] : []));
}

/** The key of a SHOW or backup line `(key,value)` or `(key, value)`. */
function lineKey(line: string): string {
  return line.slice(1, line.indexOf(','));
}

function foldedOrder(lines: readonly string[]): boolean {
  for (let i = 1; i < lines.length; i++) if (lineKey(lines[i - 1]!).toLowerCase() > lineKey(lines[i]!).toLowerCase()) return false;
  return true;
}

const anyLine = (job: JobView, pattern: RegExp) => job.lines.some((line) => pattern.test(line));
const isCommand = (p: ReturnType<typeof parseLine>) => p !== null && p.kind !== 'invalid';

const CLASSES: readonly ClassTest[] = [
  {
    name: 'this-project-failed',
    title: 'this project hung or died of a signal',
    statement: 'a bug of this project, not of the program checked: please report the job',
    test: (_, d) => d.kind === 'ours',
  },
  {
    name: 'odd-first-byte-hang',
    title: 'a key starting with an odd byte (not a letter or digit) or an empty key hangs their program',
    statement: 'keys are any bytes but blanks and ( ) [ ] , ; the statement names no first-byte rule',
    // On the raw lines, not only the valid commands: `WRITE [(_a,KVSERROR)]` hangs such a program too.
    test: (job, d) => d.kind === 'hang' && anyLine(job, /[([,]\s*([^A-Za-z0-9\s()[\]]|,|\))/),
  },
  {
    name: 'hang',
    title: 'their program did not end',
    statement: 'every job ends: a hang is a bug',
    test: (_, d) => d.kind === 'hang',
  },
  {
    name: 'empty-list-crash',
    title: 'an empty list (READ [] or READ [a,]) crashes their program',
    statement: 'an invalid line is reported and the job goes on',
    test: (job, d) => d.kind === 'crash' && anyLine(job, /\[\s*\]|,\s*\]|\[\s*,/),
  },
  {
    name: 'crash',
    title: 'their program died of a signal',
    statement: 'no input may crash the program',
    test: (_, d) => d.kind === 'crash',
  },
  {
    name: 'show-case-order',
    title: 'SHOW and .bck lines ordered with case folded (a, A, b, B) instead of by bytes (A, B, a, b)',
    statement: 'sorted by key, in byte (strcmp) order',
    test: (_, d) => d.kind === 'order' && d.files.every((f) => foldedOrder(splitLines(f.theirs ?? ''))),
  },
  {
    name: 'show-order',
    title: 'SHOW and .bck lines in another order (the C hash-bucket order) instead of sorted',
    statement: 'SHOW and BACKUP list the pairs sorted by key',
    test: (_, d) => d.kind === 'order',
  },
  {
    name: 'help-text',
    title: 'another HELP text',
    statement: "the course's text in course mode",
    test: (job, d) => job.parsed.some((p) => p?.kind === 'help') && d.files.some((f) => (f.ours ?? '').includes('Available commands') && (f.theirs ?? '').includes('Available commands')),
  },
  {
    name: 'crlf',
    title: 'lines ending in CRLF refused',
    statement: 'CRLF line ends are accepted (this project)',
    test: (job) => job.text.includes('\r\n'),
  },
  {
    name: 'wait-arguments',
    title: 'WAIT with more than one argument',
    statement: "WAIT <delay_ms>; in course mode the course's parser skips the rest",
    test: (job) => anyLine(job, /^\s*WAIT\s+\S+\s+[^#\s]/),
  },
  {
    name: 'duplicate-key',
    title: 'a key twice in one WRITE keeps the first value',
    statement: 'the last pair of a key wins (the C sort is not stable)',
    test: (job) => job.parsed.some((p) => p?.kind === 'write' && new Set(p.pairs.filter((_, i) => i % 2 === 0)).size < p.pairs.length / 2),
  },
  {
    name: 'length-limit',
    title: 'a 40-byte key or value refused',
    statement: `keys and values of up to ${MAX_STRING_BYTES} bytes (C's real limit is one less)`,
    test: (job) => tokens(job).some((t) => t.length === MAX_STRING_BYTES),
  },
  {
    name: 'many-items',
    title: '256 or more pairs or keys in one command refused',
    statement: 'no limit on the number of pairs or keys (C uses a fixed array)',
    test: (job) => job.parsed.some((p) => (p?.kind === 'write' && p.pairs.length >= 512) || ((p?.kind === 'read' || p?.kind === 'delete') && p.keys.length >= 256)),
  },
  {
    name: 'long-line',
    title: `a line longer than ${MAX_LINE_BYTES} bytes`,
    statement: 'this project reports it as too long and skips it',
    test: (job) => job.lines.some((line) => line.length > MAX_LINE_BYTES),
  },
  {
    name: 'reserved-value',
    title: 'KVSERROR, KVSMISSING or DELETED stored as a value',
    statement: 'the statement reserves these words: this project refuses them',
    test: (job) => job.lines.some((line) => /^\s*WRITE/.test(line) && [...RESERVED_VALUES].some((w) => new RegExp(`,\\s*${w}\\s*\\)`).test(line))),
  },
  {
    name: 'empty-value',
    title: 'an empty value stored',
    statement: 'unclear in the statement; this project refuses it',
    test: (job) => anyLine(job, /^\s*WRITE.*,\s*\)/),
  },
  {
    name: 'odd-token',
    title: '( in a key or value, or a tab in a key, accepted',
    statement: 'this project is stricter: refused',
    test: (job) => anyLine(job, /^\s*WRITE\s*\[.*\([^()]*\(|\[[^\]]*\t/),
  },
  {
    name: 'trailing-comment',
    title: 'a comment after a command refuses the line',
    statement: "this project's documented rule: the rest of a line after a command and a blank is a comment",
    test: (job) => job.lines.some((line, i) => isCommand(job.parsed[i]!) && /\s#/.test(line.replace(/\[[^\]]*\]/, ''))),
  },
  {
    name: 'no-final-newline',
    title: 'a last line without a newline refused',
    statement: 'this project runs it',
    test: (job) => job.text.length > 0 && !job.text.endsWith('\n'),
  },
  {
    name: 'blanks',
    title: 'blanks around a command or inside its list refused (or DELETE[a] without one)',
    statement: "the statement's own example writes DELETE[c1,...]: this project accepts blanks",
    test: (job) => job.lines.some((line, i) => isCommand(job.parsed[i]!) && (/^\s|\s$/.test(line) || /[A-Z]\[|\[.*\s.*\]/.test(line))),
  },
  {
    name: 'unterminated-list',
    title: 'an unterminated list reads on into the next lines',
    statement: 'a bad line is reported alone; the next line runs as usual',
    test: (job) => anyLine(job, /^\s*(WRITE|READ|DELETE)\s*\[[^\]]*$/),
  },
  {
    name: 'swallowed-line',
    title: 'a bad line swallows the next one',
    statement: 'a bad line is reported alone; the next line runs as usual (C cleans up twice)',
    test: (job) => job.parsed.some((p, i) => p?.kind === 'invalid' && job.parsed.slice(i + 1).some(isCommand)),
  },
];

export const UNCLASSIFIED: KnownClass = {
  name: 'unclassified',
  title: 'a difference of no known class',
  statement: 'see the outputs side by side',
};

/** Every known class, for --help and the docs. */
export const KNOWN_CLASSES: readonly KnownClass[] = CLASSES.map(({ name, title, statement }) => ({ name, title, statement }));

export function classify(job: string, difference: Difference): KnownClass {
  const jobView = view(job);
  const found = CLASSES.find((c) => c.test(jobView, difference));
  return found === undefined ? UNCLASSIFIED : { name: found.name, title: found.title, statement: found.statement };
}

