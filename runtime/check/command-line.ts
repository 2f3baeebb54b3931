/**
 * The command line of `runtime/check.js`. Pure: what to run, or the reason the arguments are
 * wrong (exit 2); check-main.ts does the rest.
 */
import { parseArgs } from 'node:util';
import { COMPAT_VALUES, isCompat, type Compat } from '../../protocol/compat.js';
import { KNOWN_CLASSES } from './known-classes.js';
import type { ServerOptions } from './server-check.js';

export const DEFAULTS = {
  runs: 100,
  timeoutMs: 5_000,
  compat: 'course' as Compat,
  backups: 3,
  threads: 5,
  lines: 12,
  shrink: 5,
  shrinkSteps: 300,
  parallel: 2,
  serverStepMs: 10_000,
} as const;

export const CHECK_USAGE = `Usage:
  node runtime/check.js batch <their-kvs> [options]              generated jobs, theirs beside ours
  node runtime/check.js public <their-kvs> [--timeout-ms T] [--json]   the course's public tests
  node runtime/check.js server <their-server> <their-client> [options]   client sessions (Part 2)

batch runs each generated job alone, in a folder of its own, through their program
(<their-kvs> <jobs_dir> <max_backups> <max_threads>) and through this project, compares every
.out and .bck byte for byte, shrinks each difference to a smallest job that still shows it and
names its class when it is a known one.

Options (batch):
  --runs N           generated jobs (default ${DEFAULTS.runs})
  --seed S           the generator's seed (default: random, printed in the summary)
  --timeout-ms T     their program's deadline per run, a hang past it is a finding (default ${DEFAULTS.timeoutMs})
  --compat STYLE     this project's output style: course (default) or seed
  --backups N        <max_backups> given to both programs (default ${DEFAULTS.backups})
  --threads N        <max_threads> given to both programs (default ${DEFAULTS.threads})
  --lines N          most lines in a generated job (default ${DEFAULTS.lines})
  --shrink N         differing runs to shrink (default ${DEFAULTS.shrink}); the others are counted
  --shrink-steps N   most tries when shrinking one run (default ${DEFAULTS.shrinkSteps})
  --parallel N       runs at once (default ${DEFAULTS.parallel})
  --work DIR         keep every run's folders in DIR (default: a temporary folder, removed)
  --json             the report as JSON on stdout
  -h, --help         show this help

server runs scripted sessions (connect, subscribe, notifications from the jobs, unsubscribe,
disconnect, two clients, a client killed, SIGUSR1) through their client on their server
(<their-server> <jobs_dir> <max_threads> <max_backups> <register_fifo>, <their-client> <id>
<register_fifo>), our client on ours, and mixed, and compares each transcript with ours on ours.
Options (server): --timeout-ms T (a step's deadline, default ${DEFAULTS.serverStepMs}), --compat,
--threads, --backups, --json.

Known classes of difference:
${KNOWN_CLASSES.map((c) => `  ${c.name.padEnd(22)} ${c.title}`).join('\n')}

Exit status: 0 nothing differs; 1 a run, a public test or a session differs; 2 bad arguments.`;

export const CHECK_HINT = 'see `node runtime/check.js --help`';

export interface BatchCommandLine {
  readonly mode: 'batch';
  readonly theirs: string;
  readonly runs: number;
  readonly seed: number | null;
  readonly timeoutMs: number;
  readonly compat: Compat;
  readonly backups: number;
  readonly threads: number;
  readonly lines: number;
  readonly shrink: number;
  readonly shrinkSteps: number;
  readonly parallel: number;
  readonly workDir: string | null;
  readonly json: boolean;
}

export interface PublicCommandLine {
  readonly mode: 'public';
  readonly theirs: string;
  readonly timeoutMs: number;
  readonly json: boolean;
}

export interface ServerCommandLine extends ServerOptions {
  readonly mode: 'server';
  readonly json: boolean;
}

export type CheckCommandLine =
  | BatchCommandLine
  | PublicCommandLine
  | ServerCommandLine
  | { readonly mode: 'help' }
  | { readonly mode: 'error'; readonly reason: string };

const NUMBER_OPTIONS = ['runs', 'seed', 'timeout-ms', 'backups', 'threads', 'lines', 'shrink', 'shrink-steps', 'parallel'] as const;
type NumberOption = (typeof NUMBER_OPTIONS)[number];
/** The smallest value each accepts; every bound is 2^31 - 1 (a seed, a deadline for setTimeout). */
const MINIMUM: Record<NumberOption, number> = { runs: 1, seed: 0, 'timeout-ms': 1, backups: 1, threads: 1, lines: 1, shrink: 0, 'shrink-steps': 0, parallel: 1 };
const MAX_NUMBER = 2_147_483_647;
/** Options each mode takes, beside --json and --help. */
const MODE_OPTIONS: Record<'batch' | 'public' | 'server', readonly string[]> = {
  batch: [...NUMBER_OPTIONS, 'compat', 'work'],
  public: ['timeout-ms'],
  server: ['timeout-ms', 'compat', 'threads', 'backups'],
};
const OPERANDS: Record<'batch' | 'public' | 'server', readonly string[]> = {
  batch: ['<their-kvs>'],
  public: ['<their-kvs>'],
  server: ['<their-server>', '<their-client>'],
};

function error(reason: string): CheckCommandLine {
  return { mode: 'error', reason };
}

export function parseCheckCommandLine(argv: readonly string[]): CheckCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(NUMBER_OPTIONS.map((name) => [name, { type: 'string' as const }])),
        compat: { type: 'string' },
        work: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (caught) {
    // Node's message names the option; its advice about `--` is kept out.
    return error(String((caught as Error).message).split('. ')[0]!);
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values['help'] === true) return { mode: 'help' };
  const [mode, ...operands] = positionals;
  if (mode === undefined) return error('no mode: batch, public or server');
  if (mode !== 'batch' && mode !== 'public' && mode !== 'server') return error(`unknown mode '${mode}': batch, public or server`);
  const wanted = OPERANDS[mode];
  if (operands.length < wanted.length) return error(`${mode} needs ${wanted.join(' ')}`);
  if (operands.length > wanted.length) return error(`${mode} takes ${wanted.join(' ')}, and '${operands[wanted.length]}' is one too many`);
  for (const name of Object.keys(values)) {
    if (name !== 'json' && name !== 'help' && !MODE_OPTIONS[mode].includes(name)) return error(`--${name} is not an option of ${mode}`);
  }

  const numbers: Partial<Record<NumberOption, number>> = {};
  for (const name of NUMBER_OPTIONS) {
    const text = values[name] as string | undefined;
    if (text === undefined) continue;
    if (!/^[0-9]+$/.test(text) || Number(text) < MINIMUM[name] || Number(text) > MAX_NUMBER) {
      return error(`--${name} needs a whole number from ${MINIMUM[name]} to ${MAX_NUMBER}, not '${text}'`);
    }
    numbers[name] = Number(text);
  }
  const compat = (values['compat'] as string | undefined) ?? DEFAULTS.compat;
  if (!isCompat(compat)) return error(`--compat is ${COMPAT_VALUES.join(' or ')}, not '${compat}'`);
  const json = values['json'] === true;
  const timeoutMs = numbers['timeout-ms'] ?? (mode === 'server' ? DEFAULTS.serverStepMs : DEFAULTS.timeoutMs);
  if (mode === 'public') return { mode, theirs: operands[0]!, timeoutMs, json };
  const threads = numbers.threads ?? DEFAULTS.threads;
  const backups = numbers.backups ?? DEFAULTS.backups;
  if (mode === 'server') return { mode, theirServer: operands[0]!, theirClient: operands[1]!, timeoutMs, compat, threads, backups, json };
  return {
    mode,
    theirs: operands[0]!,
    runs: numbers.runs ?? DEFAULTS.runs,
    seed: numbers.seed ?? null,
    timeoutMs,
    compat,
    backups,
    threads,
    lines: numbers.lines ?? DEFAULTS.lines,
    shrink: numbers.shrink ?? DEFAULTS.shrink,
    shrinkSteps: numbers['shrink-steps'] ?? DEFAULTS.shrinkSteps,
    parallel: numbers.parallel ?? DEFAULTS.parallel,
    workDir: (values['work'] as string | undefined) ?? null,
    json,
  };
}
