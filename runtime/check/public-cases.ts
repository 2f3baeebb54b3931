/**
 * The conformance fixtures in test/fixtures/conformance/ (see its README): one folder per case,
 * with its job files, its `args` line and the files it must write (`.expected`, or `.observed` for
 * the timed pair). Nothing here reads outside the checkout. Read by the tests and by
 * `check.js public`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file is compiled to dist/runtime/check/. */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../../test/fixtures/conformance/', import.meta.url));

export interface ConformanceCase {
  /** The folder's name, e.g. `course-jobs-1`. */
  readonly name: string;
  readonly folder: string;
  readonly jobs: readonly string[];
  /** The arguments after the jobs folder. */
  readonly args: readonly string[];
  /** Output file name -> path of the fixture holding its bytes. */
  readonly outputs: ReadonlyMap<string, string>;
}

/** Every case folder, sorted by name; throws with the path when the fixtures are missing or malformed. */
export function conformanceCases(suffix: '.expected' | '.observed' = '.expected'): ConformanceCase[] {
  const found: ConformanceCase[] = [];
  const entries = readdirSync(CONFORMANCE_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const name of entries) {
    const folder = join(CONFORMANCE_DIR, name);
    const files = readdirSync(folder).sort();
    const outputs = new Map(files.filter((f) => f.endsWith(suffix)).map((f) => [f.slice(0, -suffix.length), join(folder, f)] as const));
    if (outputs.size === 0) continue;
    const jobs = files.filter((f) => f.endsWith('.job'));
    if (jobs.length === 0) throw new Error(`conformance case ${folder} has no .job file`);
    const args = readFileSync(join(folder, 'args'), 'utf8').trim().split(/\s+/);
    found.push({ name, folder, jobs, args, outputs });
  }
  if (found.length === 0) throw new Error(`no conformance cases with ${suffix} files under ${CONFORMANCE_DIR}`);
  return found;
}
