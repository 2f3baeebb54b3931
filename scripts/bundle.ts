/**
 * The second half of `npm run build`: joins what `tsc` compiled into `dist/` into one file per
 * program entry in `dist/bundle/runtime/` (the program, the job worker thread, the backup child, the
 * client), so that a start reads and compiles a few files instead of some fifty (`npm run bench`
 * measures what it gives). `tsc` stays the compiler and the type check: esbuild only joins its
 * output. The modules loaded only when needed (the server, the Redis store, the inspector, the
 * backup children) stay separate chunks, loaded as late as before.
 *
 * Every file sits in one folder as deep as `dist/runtime/<room>/`, so the relative addresses the
 * modules make hold in the bundle as in `dist/runtime/`: `./job-worker.js` from the job pool,
 * `./child.js` from the backup children, `../../../package.json` for --version.
 * `inputs.json` lists the compiled files the bundle was made from: runtime/cli/program-files.ts
 * runs the bundle only while none of them is newer (a `tsc` alone leaves it stale).
 *
 *   node dist/scripts/bundle.js        (npm run build runs it after tsc)
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_ENTRIES, BUNDLE_FOLDER, INPUTS_FILE, PROJECT_ROOT } from '../runtime/cli/program-files.js';

/**
 * Packages that stay in node_modules: piscina and msgpackr-extract find files beside themselves
 * (piscina its worker, msgpackr-extract its native build for this platform), and the others are
 * CommonJS loaded only in server, Redis or inspector runs.
 */
const EXTERNAL = ['piscina', 'msgpackr-extract', 'ioredis', 'ws', '@statelyai/inspect'];

const REQUIRE_BANNER = "import { createRequire as __kvsCreateRequire } from 'node:module'; const require = __kvsCreateRequire(import.meta.url);";

const root = fileURLToPath(PROJECT_ROOT);
const outdir = fileURLToPath(BUNDLE_FOLDER);
// The whole of dist/bundle/: chunks are named by their content, so an old build's would stay.
rmSync(fileURLToPath(new URL('../', BUNDLE_FOLDER)), { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
/**
 * One build per entry: each runs in a thread or process of its own, so what two of them share is
 * simply in both. Only the program's own build is split, into the part every run loads and the
 * chunks its lazy imports load.
 */
const builds = await Promise.all(
  Object.entries(BUNDLE_ENTRIES).map(([name, compiled]) =>
    build({
      entryPoints: { [name]: fileURLToPath(new URL(compiled, PROJECT_ROOT)) },
      outdir,
      bundle: true,
      splitting: name === 'main',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: EXTERNAL,
      sourcemap: 'linked',
      // A `require` for the CommonJS inside (msgpackr loads its native extractor with it): without
      // one, esbuild's stand-in throws, and msgpackr would quietly run without it.
      banner: { js: REQUIRE_BANNER },
      metafile: true,
      logLevel: 'warning',
    }),
  ),
);
// The project's own compiled files (paths from the project root), not the packages': `npm ci` rebuilds after those change.
const inputs = [...new Set(builds.flatMap((result) => Object.keys(result.metafile.inputs)))]
  .map((input) => relative(root, fileURLToPath(new URL(input, `file://${process.cwd()}/`))))
  .filter((input) => !input.startsWith('node_modules/'))
  .sort();
writeFileSync(fileURLToPath(INPUTS_FILE), `${JSON.stringify({ inputs }, null, 1)}\n`);
