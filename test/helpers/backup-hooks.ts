/**
 * Test hooks in the backup child processes, from outside the product: `backupHooks()` gives the
 * environment that loads test/helpers/backup-hooks-preload.ts into every Node process the
 * program starts (`--import` in NODE_OPTIONS, which a backup child inherits with the rest of the
 * environment), and tells it what to do there. The preload acts in the backup child alone:
 *
 * - `trace`: a file to which each backup appends `start <pid> <ms>` when the child is given it
 *   and `end <pid> <ms>` once its `.bck` is renamed into place;
 * - `holdMs`: each backup holds its finished temporary file that long before the rename;
 * - `gate`: each backup holds its finished temporary file until this file exists (a test opens
 *   the gate by creating it), so "a backup is in progress now" is a state a test waits on.
 *
 * Nothing in runtime/ reads these: the shipped program has no test switch.
 */
/** The variables the preload reads (test-only names, like the other KVS_TEST_ knobs). */
export const HOOK_VARIABLES = {
  trace: 'KVS_TEST_BACKUP_TRACE',
  holdMs: 'KVS_TEST_BACKUP_HOLD_MS',
  gate: 'KVS_TEST_BACKUP_GATE',
} as const;

export type BackupHooks = { readonly trace?: string; readonly holdMs?: number; readonly gate?: string };

/** As a file URL: NODE_OPTIONS splits on blanks, and a URL has none. */
const PRELOAD = new URL('./backup-hooks-preload.js', import.meta.url).href;

/** The environment variables to add to a run of the program (or to this process, for children it forks). */
export function backupHooks(hooks: BackupHooks, inherited: string | undefined = process.env['NODE_OPTIONS']): Record<string, string> {
  const env: Record<string, string> = {
    NODE_OPTIONS: [inherited, `--import=${PRELOAD}`].filter((part) => part !== undefined && part !== '').join(' '),
  };
  for (const name of Object.keys(HOOK_VARIABLES) as (keyof BackupHooks)[]) {
    const value = hooks[name];
    if (value !== undefined) env[HOOK_VARIABLES[name]] = String(value);
  }
  return env;
}
