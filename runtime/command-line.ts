/**
 * The command line of `runtime/main.js` (DESIGN.md section 1). Pure: it returns what to run, or
 * the reason the arguments are wrong; main.ts does the printing and exiting.
 *
 *   main.js <jobs_dir> <max_backups> <max_threads>                  batch mode (seed Part 1 order)
 *   main.js <jobs_dir> <max_threads> <max_backups> <register_fifo>  server mode (seed Part 2 order)
 *   main.js <jobs_dir> [--threads N] [--backups N] [--fifo PATH]    the same with named options
 */
import { parseArgs } from 'node:util';
import { COMPAT_VALUES, isCompat, type Compat } from '../protocol/options.js';

export const DEFAULT_THREADS = 4;
export const DEFAULT_BACKUPS = 2;
export const DEFAULT_SESSIONS = 8;
/** Bounds that keep a typo from starting thousands of threads or processes. */
export const MAX_THREADS = 256;
export const MAX_BACKUPS = 256;
export const MAX_SESSIONS = 1024;

export const USAGE = `Usage:
  node runtime/main.js <jobs_dir> <max_backups> <max_threads> [options]                   batch mode
  node runtime/main.js <jobs_dir> <max_threads> <max_backups> <register_fifo> [options]   server mode
  node runtime/main.js <jobs_dir> [--threads N] [--backups N] [--fifo PATH] [options]

Runs every .job file in <jobs_dir> on a pool of <max_threads> workers against one store, writing
<name>.out beside each job and <name>-<n>.bck for its n-th BACKUP, with at most <max_backups>
backups being written at once. With a registration FIFO it also serves clients until SIGINT/SIGTERM.

Options:
  --threads N        worker threads (default ${DEFAULT_THREADS})
  --backups N        backups written at once (default ${DEFAULT_BACKUPS})
  --fifo PATH        serve clients on this registration FIFO (server mode)
  --sessions N       client sessions served at once, in server mode (default ${DEFAULT_SESSIONS})
  --compat=STYLE     output style: seed (default) or course (the course's public tests)
  --inspect[=URL]    stream the actors to a Stately inspector
  --quiet            no progress line and no summary
  -h, --help         show this help`;

export interface RunOptions {
  readonly mode: 'batch' | 'server';
  readonly jobsDir: string;
  readonly threads: number;
  readonly backups: number;
  readonly registerFifo: string | null;
  readonly sessions: number;
  readonly compat: Compat;
  /** The inspector's address, '' for the default one, or null when off. */
  readonly inspect: string | null;
  readonly quiet: boolean;
}

export type CommandLine = { readonly kind: 'help' } | { readonly kind: 'run'; readonly options: RunOptions } | { readonly kind: 'error'; readonly reason: string };

function count(text: string, name: string, max: number): number | string {
  if (!/^[0-9]+$/.test(text)) return `${name} must be a whole number, not '${text}'`;
  const n = Number(text);
  if (n < 1) return `${name} must be at least 1`;
  if (n > max) return `${name} must be at most ${max}`;
  return n;
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  // A negative number would otherwise be read as an unknown option, with parseArgs' advice about '--'.
  const negative = argv.find((arg) => /^-[0-9]/.test(arg));
  if (negative !== undefined) return { kind: 'error', reason: `'${negative}' is not a count: the counts are whole numbers of at least 1` };
  let parsed;
  try {
    parsed = parseArgs({
      // `--inspect` alone means the default address; parseArgs would take the next word as its value.
      args: argv.map((arg) => (arg === '--inspect' ? '--inspect=' : arg)),
      allowPositionals: true,
      strict: true,
      options: {
        threads: { type: 'string' },
        backups: { type: 'string' },
        fifo: { type: 'string' },
        sessions: { type: 'string' },
        compat: { type: 'string' },
        inspect: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { kind: 'error', reason: error instanceof Error ? error.message : String(error) };
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { kind: 'help' };

  const [jobsDir, ...rest] = positionals;
  if (jobsDir === undefined) return { kind: 'error', reason: 'missing <jobs_dir>' };
  if (rest.length === 1) return { kind: 'error', reason: 'give both counts (<max_backups> <max_threads>), or use --threads and --backups' };
  if (rest.length > 3) return { kind: 'error', reason: `too many arguments: ${rest.slice(3).join(' ')}` };
  if (rest.length > 0 && (values.threads !== undefined || values.backups !== undefined)) {
    return { kind: 'error', reason: 'give the counts either as arguments or as --threads/--backups, not both' };
  }
  if (rest.length === 3 && values.fifo !== undefined) {
    return { kind: 'error', reason: 'give the registration FIFO either as an argument or as --fifo, not both' };
  }

  // Batch mode takes <max_backups> <max_threads>; server mode <max_threads> <max_backups>.
  const server = rest.length === 3 || values.fifo !== undefined;
  const [threadsText, backupsText] =
    rest.length === 0 ? [values.threads ?? String(DEFAULT_THREADS), values.backups ?? String(DEFAULT_BACKUPS)]
    : rest.length === 3 ? [rest[0]!, rest[1]!]
    : [rest[1]!, rest[0]!];
  const threads = count(threadsText, 'max_threads', MAX_THREADS);
  if (typeof threads === 'string') return { kind: 'error', reason: threads };
  const backups = count(backupsText, 'max_backups', MAX_BACKUPS);
  if (typeof backups === 'string') return { kind: 'error', reason: backups };
  const sessions = count(values.sessions ?? String(DEFAULT_SESSIONS), '--sessions', MAX_SESSIONS);
  if (typeof sessions === 'string') return { kind: 'error', reason: sessions };
  const compat = values.compat ?? 'seed';
  if (!isCompat(compat)) return { kind: 'error', reason: `--compat must be one of ${COMPAT_VALUES.join(', ')}, not '${compat}'` };
  const registerFifo = rest.length === 3 ? rest[2]! : values.fifo ?? null;
  if (registerFifo === '') return { kind: 'error', reason: 'the registration FIFO path is empty' };

  return {
    kind: 'run',
    options: {
      mode: server ? 'server' : 'batch',
      jobsDir,
      threads,
      backups,
      registerFifo,
      sessions,
      compat,
      inspect: values.inspect ?? null,
      quiet: values.quiet === true,
    },
  };
}
