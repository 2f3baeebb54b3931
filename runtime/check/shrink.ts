/**
 * Shrinks a job that shows a difference to a smallest one that still shows it, by delta
 * debugging (Zeller's ddmin, complements only) at two levels, then by simpler names:
 * 1. whole lines are removed;
 * 2. a valid command is tried as this project writes it (`READ[a, b]` as `READ [a,b]`), then with
 *    one pair or key fewer, then, as any line, without items: a pair `(k,v)`, a key with its
 *    comma, a word, a run of blanks or one other character (a valid command stays valid, and a
 *    line that starts with a command word keeps it);
 * 3. each key or value (every occurrence of it at once, so that a key written and read stays one
 *    key) is replaced by `a`, `b` or `c`, or by its first byte;
 * over again until nothing changes. Every candidate costs a run of both programs, so each
 * distinct one is tried once and the whole search is bounded by `maxSteps` tries: the smallest
 * job found by then is the answer.
 */
import { createHash } from 'node:crypto';
import { formatCommand, parseLine, type Command, type ParsedLine } from '../../protocol/job-language.js';

export interface ShrinkResult {
  readonly job: string;
  /** Candidates tried (program runs of each side). */
  readonly steps: number;
  /** Whether the bound on tries stopped the search before it was done. */
  readonly exhausted: boolean;
}

export type StillFails = (job: string) => Promise<boolean>;

/**
 * The finest ddmin goes: a list of 300 keys is cut in at most this many chunks, so that a
 * difference needing 256 of them costs tens of tries, not hundreds.
 */
const MAX_CHUNKS = 32;
/** The names a key or value is simplified to, in order. */
const SIMPLE_NAMES = ['a', 'b', 'c'];

const isCommand = (parsed: ParsedLine) => parsed !== null && parsed.kind !== 'invalid';
const COMMAND_WORD = /^(WRITE|READ|DELETE|SHOW|WAIT|BACKUP|HELP)\b/;

/** The command with one pair (WRITE) or one key (READ, DELETE) fewer, each way; none when one is left. */
function withoutOne(command: Command): Command[] {
  if (command.kind === 'write' && command.pairs.length > 2) {
    return Array.from({ length: command.pairs.length / 2 }, (_, i) => ({ kind: 'write', pairs: command.pairs.filter((_, j) => j >> 1 !== i) }));
  }
  if ((command.kind === 'read' || command.kind === 'delete') && command.keys.length > 1) {
    return command.keys.map((_, i) => ({ kind: command.kind, keys: command.keys.filter((_, j) => j !== i) }));
  }
  return [];
}

/** Lines with their `\n` (a last line may have none). */
function splitKeepingNewlines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** A line's items (their concatenation is the line): see the module comment. */
export function lineItems(line: string): string[] {
  const items = line.match(/\([^()[\]\n]*\)|[^\s,()[\]]+,?|[ \t\r\v\f]+|[^]/g) ?? [];
  // A command word keeps its one blank: `WRITE[` would read as another class of difference.
  if (items.length > 1 && /^[A-Z]+$/.test(items[0]!) && items[1] === ' ') items.splice(0, 2, `${items[0]} `);
  return items;
}

/** The keys and values of a job: the runs of bytes between `(`, `,`, `)`, `[`, `]` and blanks inside a list. */
function names(job: string): string[] {
  const found = new Set<string>();
  for (const list of job.matchAll(/\[[^\]\n]*\]/g)) {
    for (const name of list[0].split(/[\s()[\],]+/)) if (name !== '') found.add(name);
  }
  return [...found];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `job` with every whole occurrence of `name` inside a list replaced by `by`. */
function rename(job: string, name: string, by: string): string {
  const pattern = new RegExp(`(?<=[\\[(,\\s])${escapeRegExp(name)}(?=[\\]),\\s])`, 'g');
  return job.replace(/\[[^\]\n]*\]/g, (list) => list.replace(pattern, by));
}

export async function shrinkJob(job: string, stillFails: StillFails, maxSteps: number, onStep?: (steps: number, size: number) => void): Promise<ShrinkResult> {
  // Keyed by a digest: a job may hold a line of a mebibyte, tried in many versions.
  const digest = (text: string) => createHash('sha1').update(text, 'latin1').digest('base64');
  const tried = new Map<string, boolean>([[digest(job), true]]);
  let steps = 0;
  const fails = async (candidate: string): Promise<boolean> => {
    const key = digest(candidate);
    const known = tried.get(key);
    if (known !== undefined) return known;
    if (steps >= maxSteps) return false;
    steps++;
    const result = await stillFails(candidate);
    tried.set(key, result);
    onStep?.(steps, candidate.length);
    return result;
  };

  const ddmin = async (units: string[], rebuild: (kept: string[]) => string, acceptable: (kept: string[]) => boolean = () => true): Promise<string[]> => {
    let n = 2;
    while (units.length > 0 && steps < maxSteps) {
      const chunk = Math.ceil(units.length / n);
      let removed = false;
      for (let start = 0; start < units.length; start += chunk) {
        const kept = [...units.slice(0, start), ...units.slice(start + chunk)];
        if (acceptable(kept) && (await fails(rebuild(kept)))) {
          units = kept;
          n = Math.max(n - 1, 2);
          removed = true;
          break;
        }
      }
      if (!removed) {
        if (chunk === 1 || n >= MAX_CHUNKS) break;
        n = Math.min(n * 2, units.length, MAX_CHUNKS);
      }
    }
    return units;
  };

  let current = job;
  for (let changed = true; changed && steps < maxSteps; ) {
    const before = current;
    current = (await ddmin(splitKeepingNewlines(current), (kept) => kept.join(''))).join('');
    const lines = splitKeepingNewlines(current);
    for (let i = 0; i < lines.length; i++) {
      const rebuild = (kept: string[]) => [...lines.slice(0, i), kept.join(''), ...lines.slice(i + 1)].join('');
      const eol = lines[i]!.endsWith('\n') ? '\n' : '';
      const tryLine = async (body: string) => {
        if (body + eol === lines[i] || !(await fails(rebuild([body, eol])))) return false;
        lines[i] = body + eol;
        return true;
      };
      // A valid command: first as this project writes it, then one pair or key fewer at a time.
      let parsed = parseLine(lines[i]!.slice(0, lines[i]!.length - eol.length));
      if (isCommand(parsed)) {
        await tryLine(formatCommand(parsed as Command));
        for (let shorter = withoutOne(parsed as Command); shorter.length > 0; ) {
          const next = shorter.shift()!;
          if (await tryLine(formatCommand(next))) shorter = withoutOne(next);
        }
      }
      const body = lines[i]!.slice(0, lines[i]!.length - eol.length);
      parsed = parseLine(body);
      // A valid command stays one, and a line that starts with a command word keeps it:
      // `(_a,1)` alone may still hang a program that hangs on `WRITE [(_a,1)]`, but it is not the
      // job a person wants to see.
      const items = lineItems(body);
      const word = items[0] !== undefined && COMMAND_WORD.test(items[0]) ? items[0] : null;
      const acceptable = (kept: string[]) => (word === null || kept[0] === word) && (!isCommand(parsed) || isCommand(parseLine(kept.join(''))));
      lines[i] = (await ddmin(items, (kept) => rebuild([...kept, eol]), acceptable)).join('') + eol;
    }
    current = lines.join('');
    for (const name of names(current)) {
      for (const simpler of [...SIMPLE_NAMES, name[0]!]) {
        if (simpler === name || steps >= maxSteps) continue;
        if (SIMPLE_NAMES.includes(name) && SIMPLE_NAMES.indexOf(simpler) > SIMPLE_NAMES.indexOf(name)) continue;
        const candidate = rename(current, name, simpler);
        if (candidate !== current && (await fails(candidate))) {
          current = candidate;
          break;
        }
      }
    }
    changed = current !== before;
  }
  return { job: current, steps, exhausted: steps >= maxSteps };
}
