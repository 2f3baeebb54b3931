/**
 * The command line of `runtime/main.js` (docs/DESIGN.md section 1). Pure: it returns what to run, or
 * the reason the arguments are wrong; main.ts does the printing and exiting.
 *
 *   main.js <jobs_dir> <max_backups> <max_threads>                  batch mode (seed Part 1 order)
 *   main.js <jobs_dir> <max_threads> <max_backups> <register_fifo>  server mode (seed Part 2 order)
 *   main.js <jobs_dir> [--threads N] [--backups N] [--fifo PATH]    the same with named options
 */
import { COMPAT_VALUES, isCompat, type Compat } from '../../protocol/compat.js';

export const DEFAULT_THREADS = 4;
export const DEFAULT_BACKUPS = 2;
export const DEFAULT_SESSIONS = 8;
/** Bounds that keep a typo from starting thousands of threads or processes. */
export const MAX_THREADS = 256;
export const MAX_BACKUPS = 256;
export const MAX_SESSIONS = 1024;

/** The command as run from the checkout; the package's `bin` calls it `kvs` (runtime/cli/version.ts). */
export const PROGRAM = 'node runtime/main.js';

export const USAGE = `Usage:
  ${PROGRAM} <jobs_dir> <max_backups> <max_threads> [options]                   batch mode
  ${PROGRAM} <jobs_dir> <max_threads> <max_backups> <register_fifo> [options]   server mode
  ${PROGRAM} <jobs_dir> [--threads N] [--backups N] [--fifo PATH] [options]

Runs every .job file in <jobs_dir> on a pool of <max_threads> workers against one store, writing
<name>.out beside each job and <name>-<n>.bck for its n-th BACKUP, with at most <max_backups>
backups being written at once. With a registration FIFO it also serves clients until SIGINT,
SIGTERM or SIGHUP.

Options:
  --threads N        worker threads (default ${DEFAULT_THREADS})
  --backups N        backups written at once (default ${DEFAULT_BACKUPS})
  --fifo PATH        serve clients on this registration FIFO (server mode)
  --sessions N       client sessions served at once, in server mode (default ${DEFAULT_SESSIONS})
  --compat=STYLE     output style: seed (default) or course (the course's public tests)
  --store URL        where the data lives: memory (default), or a Redis shared by many kvs hosts:
                     redis://[user:password@]host[:port][/db] or redis+unix:///path/to/socket[?db=N],
                     or the Sentinels of a primary and its replicas (lives through a failover):
                     redis-sentinel://[user:password@]host:port[,host:port...]/<master-name>
                       [?db=N&replicas=N&failover-ms=N] (replicas to confirm a batch, default 1;
                       how long to wait for a new primary, default 30000)
  --inspect[=URL]    stream the actors to a Stately inspector
  --quiet            no progress line and no summary
  -h, --help         show this help
  --version          show the version

Exit status: 0 all done; 1 a job or backup failed, the folder cannot be read, the server could not
start, or the store was unreachable or lost; 2 bad arguments; 128 + the signal's number when a batch
run is stopped by one (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). A server stopped by a signal exits 0.`;

export interface RunOptions {
  readonly mode: 'batch' | 'server';
  readonly jobsDir: string;
  readonly threads: number;
  readonly backups: number;
  readonly registerFifo: string | null;
  readonly sessions: number;
  readonly compat: Compat;
  /** `--store`: a Redis URL (checked in full when opened), or null for the in-memory store. */
  readonly store: string | null;
  /** The inspector's address, '' for the default one, or null when off. */
  readonly inspect: string | null;
  readonly quiet: boolean;
}

/**
 * A URL as typed, for a message, without its password (`scheme://user:password@` → `scheme://user@`):
 * also for text that does not parse as a URL, which is when it is shown as typed.
 */
export function withoutPassword(text: string): string {
  return text.replace(/^([^:/?#]*:\/\/[^/?#@:]*):[^/?#]*@/, '$1@').replace(/^([^:/?#]*:\/\/[^/?#@]*):[^@]*@/, '$1@');
}

/** An inspector relay's address: `ws://` or `wss://` and a host, a URL that can be parsed (a valid port). */
export function isInspectorAddress(url: string): boolean {
  return /^wss?:\/\/[^/]/.test(url) && URL.canParse(url);
}

const isWholeNumber = (text: string) => /^[0-9]+$/.test(text);

function count(text: string, name: string, max: number): number | string {
  if (!isWholeNumber(text)) return `${name} must be a whole number, not '${text}'`;
  const n = Number(text);
  if (n < 1) return `${name} must be at least 1`;
  if (n > max) return `${name} must be at most ${max}`;
  return n;
}

/** The one line that follows every error, instead of the whole usage. */
export const HELP_HINT = `run '${PROGRAM} --help' for the usage`;

export type CommandLine =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly options: RunOptions; readonly warnings: readonly string[] }
  | { readonly kind: 'error'; readonly reason: string };

/** The options a program takes: those with a value (and the form a message shows), flags, and
 * those whose value may only be joined (`--inspect[=URL]`). */
export interface OptionSpec {
  readonly values: Readonly<Record<string, string>>;
  readonly flags: ReadonlySet<string>;
  readonly joinedOnly?: ReadonlySet<string>;
}

const MAIN_OPTIONS: OptionSpec = {
  values: {
    threads: '--threads N',
    backups: '--backups N',
    fifo: '--fifo PATH',
    sessions: '--sessions N',
    compat: `--compat=${COMPAT_VALUES.join('|')}`,
    store: '--store URL',
  },
  flags: new Set(['quiet', 'help', 'version']),
  joinedOnly: new Set(['inspect']),
};

export interface Arguments {
  readonly values: Readonly<Record<string, string>>;
  readonly flags: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

/**
 * The arguments read into options and positionals, every mistake in the program's own words
 * (util.parseArgs' messages speak of "ambiguous" arguments and quote its own advice). A value may
 * follow its option (`--threads 4`) or be joined to it (`--threads=4`); a joined-only option
 * (`--inspect`) takes only a joined value, and alone means its default; `-h` is `--help`; `--`
 * ends the options.
 */
export function readArguments(argv: readonly string[], spec: OptionSpec = MAIN_OPTIONS): Arguments | string {
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags.add('help');
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) return `unknown option '${arg}'`;
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    const joined = equals < 0 ? undefined : arg.slice(equals + 1);
    if (spec.joinedOnly?.has(name) === true) {
      values[name] = joined ?? '';
    } else if (spec.flags.has(name)) {
      if (joined !== undefined) return `--${name} takes no value`;
      flags.add(name);
    } else if (name in spec.values) {
      const next = argv[i + 1];
      // A following option is a forgotten value, not the value (`--compat --quiet`).
      const value = joined ?? (next === undefined || (next.startsWith('-') && next !== '-') ? undefined : next);
      if (value === undefined) return `--${name} needs a value: ${spec.values[name]}`;
      if (joined === undefined) i++;
      values[name] = value;
    } else {
      return `unknown option '${equals < 0 ? arg : arg.slice(0, equals)}'`;
    }
  }
  return { values, flags, positionals };
}

/**
 * When a count is not a number because the folder was not given first (`2 4 ./jobs`), the reason
 * that says so, with the arguments in their order; otherwise null.
 */
function folderFirst(positionals: readonly string[]): string | null {
  const folder = positionals.find((arg) => !isWholeNumber(arg));
  if (folder === undefined || !isWholeNumber(positionals[0]!)) return null;
  const numbers = positionals.filter((arg) => arg !== folder);
  return `the jobs folder comes first: ${PROGRAM} ${[folder, ...numbers].join(' ')} (not '${folder}' after the counts)`;
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  // A negative number would otherwise be read as an unknown option.
  const negative = argv.find((arg) => /^-[0-9]/.test(arg));
  if (negative !== undefined) return { kind: 'error', reason: `'${negative}' is not a count: the counts are whole numbers of at least 1` };
  const parsed = readArguments(argv);
  if (typeof parsed === 'string') return { kind: 'error', reason: parsed };
  const { values, flags, positionals } = parsed;
  if (flags.has('help')) return { kind: 'help' };
  if (flags.has('version')) return { kind: 'version' };

  const [jobsDir, ...rest] = positionals;
  if (jobsDir === undefined) return { kind: 'error', reason: 'missing <jobs_dir>' };
  if (jobsDir === '') return { kind: 'error', reason: "the jobs folder is an empty argument (''): name a folder, such as ./jobs" };
  if (rest.length === 1) return { kind: 'error', reason: 'give both counts (<max_backups> <max_threads>), or use --threads and --backups' };
  if (rest.length > 3) return { kind: 'error', reason: `too many arguments: ${rest.slice(3).join(' ')}` };
  if (rest.length > 0 && (values['threads'] !== undefined || values['backups'] !== undefined)) {
    return { kind: 'error', reason: 'give the counts either as arguments or as --threads/--backups, not both' };
  }
  if (rest.length === 3 && values['fifo'] !== undefined) {
    return { kind: 'error', reason: 'give the registration FIFO either as an argument or as --fifo, not both' };
  }
  if (rest.length === 2 && values['fifo'] !== undefined) {
    // Two counts read in batch order (<max_backups> <max_threads>) would be swapped for a server
    // (<max_threads> <max_backups> <register_fifo>): rather than guess, ask for names.
    return { kind: 'error', reason: 'with --fifo, give the counts as --threads N and --backups N (as arguments, batch mode reads <max_backups> <max_threads> and server mode <max_threads> <max_backups> <register_fifo>)' };
  }

  // Batch mode takes <max_backups> <max_threads>; server mode <max_threads> <max_backups>. A
  // message names a count as the user gave it: the positional's name, or the option.
  const server = rest.length === 3 || values['fifo'] !== undefined;
  const [threadsText, backupsText] =
    rest.length === 0 ? [values['threads'] ?? String(DEFAULT_THREADS), values['backups'] ?? String(DEFAULT_BACKUPS)]
    : rest.length === 3 ? [rest[0]!, rest[1]!]
    : [rest[1]!, rest[0]!];
  const threads = count(threadsText, rest.length === 0 ? '--threads' : 'max_threads', MAX_THREADS);
  if (typeof threads === 'string') return { kind: 'error', reason: folderFirst(positionals) ?? threads };
  const backups = count(backupsText, rest.length === 0 ? '--backups' : 'max_backups', MAX_BACKUPS);
  if (typeof backups === 'string') return { kind: 'error', reason: folderFirst(positionals) ?? backups };
  const sessions = count(values['sessions'] ?? String(DEFAULT_SESSIONS), '--sessions', MAX_SESSIONS);
  if (typeof sessions === 'string') return { kind: 'error', reason: sessions };
  const compat = values['compat'] ?? 'seed';
  if (!isCompat(compat)) return { kind: 'error', reason: `--compat must be one of ${COMPAT_VALUES.join(', ')}, not '${compat}'` };
  const registerFifo = rest.length === 3 ? rest[2]! : values['fifo'] ?? null;
  if (registerFifo === '') return { kind: 'error', reason: 'the registration FIFO path is empty' };
  if (rest.length === 3 && isWholeNumber(registerFifo!)) {
    // `./jobs 2 4 5`: a stray number would serve clients on a FIFO named 5 in the current folder.
    return {
      kind: 'error',
      reason: `the registration FIFO '${registerFifo}' is a bare number, most likely a count too many: batch mode is <jobs_dir> <max_backups> <max_threads>, server mode <jobs_dir> <max_threads> <max_backups> <register_fifo> (to serve on a FIFO named ${registerFifo}, write ./${registerFifo})`,
    };
  }
  const storeText = values['store'] ?? 'memory';
  if (/^rediss:\/\//i.test(storeText)) {
    return { kind: 'error', reason: `--store: TLS (rediss://) is not supported: reach a TLS Redis through a local tunnel (stunnel, ssh -L) as redis://, or by its unix socket` };
  }
  if (storeText !== 'memory' && !/^(redis|redis\+unix|unix|redis-sentinel):\/\//.test(storeText)) {
    return { kind: 'error', reason: `--store must be memory, redis://host[:port][/db], redis+unix:///path/to/socket or redis-sentinel://host:port[,host:port...]/<master-name>, not '${withoutPassword(storeText)}'` };
  }
  const inspect = values['inspect'] ?? null;
  if (inspect !== null && inspect !== '' && !isInspectorAddress(inspect)) {
    return { kind: 'error', reason: `--inspect must be a ws:// or wss:// address, such as ws://localhost:8080, not '${inspect}'` };
  }
  const warnings = !server && values['sessions'] !== undefined ? ['--sessions is ignored in batch mode: it counts the clients a server serves at once'] : [];

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
      store: storeText === 'memory' ? null : storeText,
      inspect,
      quiet: flags.has('quiet'),
    },
    warnings,
  };
}
