/**
 * The house points one way: runtime/ -> actors/ -> protocol/. Every import of every source file
 * in the three folders is read and checked:
 * - protocol/ is pure: it imports only protocol/ and msgpackr (a pure codec). No `node:` module:
 *   bytes are Node's global Buffer, which needs no import and does no I/O.
 * - actors/ imports only actors/, protocol/ and xstate; the I/O a machine invokes is supplied by
 *   runtime/ (`machine.provide`) or handed in as an object in its input.
 * - runtime/ may import anything but the folders above it (scripts/, bench/, test/).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers/processes.js';

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
/** `node:` modules allowed where the rule says none, with the reason. None today. */
const NODE_EXCEPTIONS: Record<string, string> = {};

/** Every module specifier in a source text: static imports and re-exports (one line or many), dynamic imports, requires. */
export function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** Why `specifier`, imported by a file of `folder`, goes against the direction; null when it does not. */
export function violation(folder: Folder, file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    const target = specifier.startsWith('./') ? folder : /^\.\.\/([^/]+)\//.exec(specifier)?.[1];
    if (target !== undefined && (FOLDERS[folder] as readonly string[]).includes(target)) return null;
    return `${file} imports ${specifier}: ${folder}/ may import only ${FOLDERS[folder].join('/, ')}/`;
  }
  if (specifier.startsWith('node:')) {
    if (folder === 'runtime' || NODE_EXCEPTIONS[`${file} ${specifier}`] !== undefined) return null;
    return `${file} imports ${specifier}: ${folder}/ does no I/O and imports no node: module`;
  }
  const allowed = PACKAGES[folder];
  if (allowed.includes('*') || allowed.includes(specifier.split('/')[0]!)) return null;
  return `${file} imports the package ${specifier}: ${folder}/ may import only ${allowed.join(', ')}`;
}

function sourceFiles(folder: Folder): string[] {
  return readdirSync(join(ROOT, folder))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `${folder}/${name}`);
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
  t.is(violation('runtime', 'runtime/x.ts', 'node:fs'), null);
  t.is(violation('actors', 'actors/x.ts', '../protocol/frames.js'), null);
  t.is(violation('actors', 'actors/x.ts', 'xstate'), null);
});
