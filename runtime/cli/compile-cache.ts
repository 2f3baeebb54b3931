/**
 * Node's module compile cache (`module.enableCompileCache()`, Node 22.8 and later): V8 keeps the
 * compiled code of every module it loads on disk and reuses it on the next start, so a start
 * compiles nothing that has not changed. runtime/main.js and runtime/client.js turn it on before
 * they load anything else. On Node 20 there is no such API and nothing happens.
 *
 * Where: the user's cache folder, `$XDG_CACHE_HOME/ist-kvs/compile-cache` (`~/.cache/ist-kvs/...`
 * when XDG_CACHE_HOME is unset or not absolute, as the XDG base-directory spec says), where a user
 * looks for what a program caches and clears it. Not Node's default, `<tmpdir>/node-compile-cache`:
 * that folder is shared by every user of the machine, so the first one to create it owns it (the
 * others silently get no cache), and one that anybody may write is code another user could plant.
 * The folder stays small: Node keeps one entry per module file (a rebuilt file replaces its entry)
 * in a sub-folder per Node version. `NODE_COMPILE_CACHE=dir` still chooses another folder (Node then
 * enables it itself, before this runs) and `NODE_DISABLE_COMPILE_CACHE=1` turns it off.
 *
 * A folder that cannot be made or written is never an error: Node then runs without the cache and
 * says nothing, which is what a cache should do.
 */
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

interface CompileCacheResult {
  readonly status: number;
  readonly directory?: string;
}

/** The API where Node has it (22.8 and later; @types/node 20 does not describe it). */
type EnableCompileCache = (directory?: string) => CompileCacheResult;

/** The folder this program's compile cache goes to, for the environment `env`; null without a home. */
export function compileCacheFolder(env: NodeJS.ProcessEnv = process.env): string | null {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'ist-kvs', 'compile-cache');
  let home: string;
  try {
    home = homedir();
  } catch {
    return null;
  }
  return home === '' ? null : join(home, '.cache', 'ist-kvs', 'compile-cache');
}

/**
 * Turns the compile cache on for this thread, and, through NODE_COMPILE_CACHE, for the worker
 * threads and backup children started from here (Node enables it in each one that sees the
 * variable at its start). Returns the folder in use, or null when there is none.
 */
export function enableCompileCache(): string | null {
  const enable = (module as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== 'function') return null;
  const folder = process.env.NODE_COMPILE_CACHE === undefined ? compileCacheFolder() : undefined;
  if (folder === null) return null;
  const { directory } = enable(folder);
  if (directory === undefined) return null;
  process.env.NODE_COMPILE_CACHE = directory;
  return directory;
}
