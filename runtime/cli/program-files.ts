/**
 * Which compiled files a start loads: `npm run build` compiles with `tsc` into `dist/`, then joins
 * each program entry into `dist/bundle/runtime/` (scripts/bundle.ts), which starts faster. The bundle runs
 * only while it is current: a `tsc` run alone (as when working on one part) rewrites the compiled
 * files after it, and then the program runs from `dist/` as `tsc` wrote it, never from a stale
 * bundle. The check is one stat per compiled file the bundle holds (well under a millisecond).
 */
import { readFileSync, statSync } from 'node:fs';

/** The project's folder (this file runs from `dist/runtime/cli/`). */
export const PROJECT_ROOT = new URL('../../../', import.meta.url);
/**
 * As deep as the compiled runtime/ modules (dist/runtime/<room>/), so that an address a module
 * makes from its own (`../../../package.json` for --version) holds in the bundle too.
 */
const BUNDLE_PATH = 'dist/bundle/runtime/';
/** Written last by scripts/bundle.ts: the compiled files the bundle holds; its time is the bundle's. */
const INPUTS_NAME = 'inputs.json';
export const BUNDLE_FOLDER = new URL(BUNDLE_PATH, PROJECT_ROOT);
export const INPUTS_FILE = new URL(INPUTS_NAME, BUNDLE_FOLDER);

/** Each entry of the bundle, and the compiled file it starts from. */
export const BUNDLE_ENTRIES = {
  main: 'dist/runtime/main.js',
  'job-worker': 'dist/runtime/batch/job-worker.js',
  child: 'dist/runtime/backup/child.js',
  client: 'dist/runtime/client/client.js',
} as const;

export type BundleEntry = keyof typeof BUNDLE_ENTRIES;

/** The file to load for `entry`: the bundle's while it is current, otherwise the one `tsc` wrote. */
export function programFile(entry: BundleEntry, root = PROJECT_ROOT): string {
  return new URL(bundleIsCurrent(root) ? `${BUNDLE_PATH}${entry}.js` : BUNDLE_ENTRIES[entry], root).href;
}

/** True when the bundle exists and none of the compiled files it was made from has changed since. */
export function bundleIsCurrent(root = PROJECT_ROOT): boolean {
  try {
    const inputsFile = new URL(`${BUNDLE_PATH}${INPUTS_NAME}`, root);
    const built = statSync(inputsFile).mtimeMs;
    const { inputs } = JSON.parse(readFileSync(inputsFile, 'utf8')) as { inputs: string[] };
    return inputs.length > 0 && inputs.every((input) => statSync(new URL(input, root)).mtimeMs <= built);
  } catch {
    // No bundle, or a file it was made from is gone: tsc's files are what there is.
    return false;
  }
}
