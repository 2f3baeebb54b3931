/**
 * The house points one way: runtime/ -> actors/ -> protocol/. Every import of every source file
 * in the three folders (and runtime/'s sub-folders) is read and checked:
 * - protocol/ is pure: it imports only protocol/ and msgpackr (a pure codec). No `node:` module:
 *   bytes are Node's global Buffer, which needs no import and does no I/O.
 * - actors/ imports only actors/, protocol/ and xstate; the I/O a machine invokes is supplied by
 *   runtime/ (`machine.provide`) or handed in as an object in its input.
 * - runtime/ may import anything but the folders above it (scripts/, bench/, test/), and its rooms
 *   keep to themselves where a room is a program or a seam of its own (ROOMS below).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers/processes.js';
import { sourceFiles, specifiers } from '../helpers/source-files.js';

type Folder = 'protocol' | 'actors' | 'runtime';

/** Packages each folder may import, beside the folders it may import. */
const PACKAGES: Record<Folder, readonly string[]> = {
  protocol: ['msgpackr'],
  actors: ['xstate'],
  runtime: ['*'],
};
const FOLDERS: Record<Folder, readonly Folder[]> = {
  protocol: ['protocol'],
  actors: ['actors', 'protocol'],
  runtime: ['runtime', 'actors', 'protocol'],
};
/**
 * Rooms of runtime/ that only some files may import, with the reason. A room's own files always may.
 * - client/ is a program of its own (`runtime/client.js`): nothing of the server's side imports it.
 * - redis/ is one store behind the store seam: only the seam (store/choice.ts) picks it, and the
 *   backup child (a process of its own) reads a Redis copy through it.
 * - check/ is a program of its own (`runtime/check.js`): nothing imports it.
 */
export const ROOMS: Record<string, { readonly importers: readonly string[]; readonly why: string }> = {
  'runtime/client/': { importers: [], why: 'the client is a program of its own' },
  'runtime/redis/': { importers: ['runtime/store/choice.ts', 'runtime/backup/child.ts'], why: 'the Redis store is reached only through the store seam (runtime/store/choice.ts)' },
  'runtime/check/': { importers: [], why: 'the checker is a program of its own' },
};
/** `node:` modules allowed where the rule says none, with the reason. None today. */
const NODE_EXCEPTIONS: Record<string, string> = {};

/** Why `specifier`, imported by `file` (a path from the repository's root), goes against the direction; null when it does not. */
export function violation(folder: Folder, file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    const target = normalize(join(dirname(file), specifier)).replaceAll('\\', '/');
    const top = target.split('/')[0]!;
    if (!(FOLDERS[folder] as readonly string[]).includes(top) || target.startsWith('..')) {
      return `${file} imports ${specifier}: ${folder}/ may import only ${FOLDERS[folder].join('/, ')}/`;
    }
    for (const [room, rule] of Object.entries(ROOMS)) {
      if (target.startsWith(room) && !file.startsWith(room) && !rule.importers.includes(file)) {
        return `${file} imports ${specifier}: ${rule.why}`;
      }
    }
    return null;
  }
  if (specifier.startsWith('node:')) {
    if (folder === 'runtime' || NODE_EXCEPTIONS[`${file} ${specifier}`] !== undefined) return null;
    return `${file} imports ${specifier}: ${folder}/ does no I/O and imports no node: module`;
  }
  const allowed = PACKAGES[folder];
  if (allowed.includes('*') || allowed.includes(specifier.split('/')[0]!)) return null;
  return `${file} imports the package ${specifier}: ${folder}/ may import only ${allowed.join(', ')}`;
}

test('every import in protocol/, actors/ and runtime/ points runtime -> actors -> protocol', (t) => {
  const problems: string[] = [];
  let imports = 0;
  for (const folder of ['protocol', 'actors', 'runtime'] as const) {
    const files = sourceFiles(folder);
    t.true(files.length > 0, `${folder}/ has source files`);
    for (const file of files) {
      for (const specifier of specifiers(readFileSync(join(ROOT, file), 'utf8'))) {
        imports++;
        const problem = violation(folder, file, specifier);
        if (problem !== null) problems.push(problem);
      }
    }
  }
  t.true(imports > 100, `read ${imports} imports`);
  t.deepEqual(problems, []);
});

test('the reader finds imports of every form, and the rule refuses each wrong direction', (t) => {
  const source = [
    "import { a } from '../runtime/fifo.js';",
    'import type { B } from "./b.js";',
    'import {',
    '  c,',
    "} from 'node:fs';",
    "export { d } from '../protocol/d.js';",
    "import 'side-effect';",
    "const e = await import('../actors/e.js');",
  ].join('\n');
  t.deepEqual(specifiers(source), ['../runtime/fifo.js', './b.js', 'node:fs', '../protocol/d.js', 'side-effect', '../actors/e.js']);
  t.regex(violation('actors', 'actors/x.ts', '../runtime/fifo.js') ?? '', /actors\/ may import only actors\/, protocol\//);
  t.regex(violation('actors', 'actors/x.ts', 'node:fs/promises') ?? '', /imports no node: module/);
  t.regex(violation('actors', 'actors/x.ts', 'piscina') ?? '', /may import only xstate/);
  t.regex(violation('protocol', 'protocol/x.ts', '../actors/store.js') ?? '', /protocol\/ may import only protocol\//);
  t.regex(violation('protocol', 'protocol/x.ts', 'xstate') ?? '', /may import only msgpackr/);
  t.regex(violation('runtime', 'runtime/x.ts', '../scripts/diagrams.js') ?? '', /runtime\/ may import only runtime\/, actors\/, protocol\//);
  t.regex(violation('runtime', 'runtime/server/x.ts', '../../scripts/diagrams.js') ?? '', /runtime\/ may import only/);
  t.regex(violation('runtime', 'runtime/server/x.ts', '../client/console.js') ?? '', /the client is a program of its own/);
  t.regex(violation('runtime', 'runtime/run.ts', './redis/store.js') ?? '', /only through the store seam/);
  t.is(violation('runtime', 'runtime/store/choice.ts', '../redis/store.js'), null);
  t.is(violation('runtime', 'runtime/redis/store.ts', './connection.js'), null);
  t.is(violation('runtime', 'runtime/server/x.ts', '../../actors/host.js'), null);
  t.is(violation('runtime', 'runtime/x.ts', 'node:fs'), null);
  t.is(violation('actors', 'actors/x.ts', '../protocol/frames.js'), null);
  t.is(violation('actors', 'actors/x.ts', 'xstate'), null);
});
