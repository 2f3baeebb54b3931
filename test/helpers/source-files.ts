/**
 * Reading the project's own source, for the tests of its shape (test/architecture/): which files a
 * folder holds and which modules a source text imports.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './processes.js';

/** Every file of a folder and its sub-folders ending in one of `endings`, as paths from the repository's root. */
export function sourceFiles(folder: string, endings: readonly string[] = ['.ts']): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => endings.some((ending) => name.endsWith(ending)))
    .map((name) => `${folder}/${name}`);
}

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
