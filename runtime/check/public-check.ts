/**
 * `check.js public`: the course's public tests (test/fixtures/conformance/course-*), each alone
 * in an empty folder of its own, as the course's script runs them: `<their-kvs> <dir> <args>`,
 * then every `.out` and `.bck` compared with the expected bytes (and no other output file).
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRuns, type Difference } from './difference.js';
import { trackFolder } from './process-groups.js';
import { runProgram, type ProgramResult } from './program-run.js';
import { conformanceCases } from './public-cases.js';

export interface PublicResult {
  readonly name: string;
  readonly jobs: readonly string[];
  readonly args: readonly string[];
  /** null: it passed. */
  readonly difference: Difference | null;
}

/** The course's cases (the seed's example is this project's own, in the seed's output style). */
export function publicCases() {
  return conformanceCases('.expected').filter((c) => c.name.startsWith('course-'));
}

export async function checkPublic(theirs: string, timeoutMs: number, progress: (done: number, total: number) => void = () => {}): Promise<PublicResult[]> {
  const cases = publicCases();
  const results: PublicResult[] = [];
  for (const { name, folder, jobs, args, outputs } of cases) {
    progress(results.length, cases.length);
    const dir = mkdtempSync(join(tmpdir(), 'kvs-check-public-'));
    const removeDir = trackFolder(dir);
    try {
      for (const job of jobs) copyFileSync(join(folder, job), join(dir, job));
      // The course ran its own program with the numbers alone; --compat is this project's.
      const numbers = args.filter((arg) => !arg.startsWith('--'));
      const result = await runProgram({ command: theirs, before: [], after: numbers }, dir, timeoutMs);
      const expected: ProgramResult = {
        status: { kind: 'exit', code: 0 },
        files: new Map([...outputs].map(([file, path]) => [file, readFileSync(path, 'latin1')])),
        log: '',
      };
      results.push({ name, jobs, args: numbers, difference: compareRuns(result, expected) });
    } finally {
      removeDir();
    }
  }
  progress(results.length, cases.length);
  return results;
}
