/**
 * `check.js batch`: generated jobs, one a folder, through their batch program and through this
 * project; each run that differs is shrunk to a smallest job that still shows the same kind of
 * difference, and named when it is of a known class.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareRuns, signature, type Difference } from './difference.js';
import { generateJobs } from './job-generator.js';
import { classify, type KnownClass } from './known-classes.js';
import { trackFolder } from './process-groups.js';
import { runProgram, type ProgramCommand, type ProgramResult, type RunSettings } from './program-run.js';
import { shrinkJob } from './shrink.js';

/** This project's batch program: this file is compiled to dist/runtime/check/. */
export const KVS_MAIN = fileURLToPath(new URL('../../../runtime/main.js', import.meta.url));
/** The job's name in each folder, as in the statement's example. */
export const JOB_FILE = 'test.job';
/**
 * This project's own deadline: a bound on a bug here, not a finding about theirs, so it is
 * generous (a Node process on a loaded machine can take seconds to start).
 */
const OUR_DEADLINE_MS = 120_000;
/**
 * A run past --timeout-ms is run again with this many times the deadline before it counts as a
 * hang: on a loaded machine a slow program is not a hung one. A program that truly hangs hangs
 * again.
 */
const HANG_CONFIRM_FACTOR = 4;

export interface BatchOptions extends RunSettings {
  /** Their program, run as `<theirs> <jobs_dir> <backups> <threads>`. */
  readonly theirs: string;
  readonly runs: number;
  readonly seed: number;
  readonly maxLines: number;
  /** How many differing runs are shrunk (each costs up to `shrinkSteps` runs of both programs). */
  readonly shrink: number;
  readonly shrinkSteps: number;
  /** Runs at once. */
  readonly parallel: number;
  /** Where the run folders go; null: a temporary folder, removed at the end. */
  readonly workDir: string | null;
}

export interface Finding {
  /** The generated run it was found in (1-based). */
  readonly run: number;
  readonly knownClass: KnownClass;
  /** The shrunk job, and the difference it shows. */
  readonly job: string;
  readonly difference: Difference;
  readonly originalJob: string;
  readonly steps: number;
  readonly exhausted: boolean;
}

export interface BatchReport {
  readonly seed: number;
  readonly runs: number;
  readonly identical: number;
  /** Runs whose outputs or ends differ, 1-based. */
  readonly differing: readonly number[];
  /** Runs that outlived --timeout-ms once, then ended within HANG_CONFIRM_FACTOR times it and agreed. */
  readonly slow: readonly number[];
  readonly findings: readonly Finding[];
}

export type BatchProgress =
  | { readonly phase: 'run'; readonly done: number; readonly total: number; readonly differing: number }
  | { readonly phase: 'confirm'; readonly run: number }
  | { readonly phase: 'shrink'; readonly run: number; readonly step: number; readonly bytes: number };

export function theirCommand(options: BatchOptions): ProgramCommand {
  return { command: options.theirs, before: [], after: [String(options.backups), String(options.threads)] };
}

export function ourCommand(options: Pick<BatchOptions, 'backups' | 'threads' | 'compat'>): ProgramCommand {
  return { command: process.execPath, before: [KVS_MAIN], after: [String(options.backups), String(options.threads), `--compat=${options.compat}`, '--quiet'] };
}

/** Both programs on one job, each in a fresh folder of its own under `dir`, which is removed after unless kept. */
export class JobRunner {
  private readonly ours = new Map<string, ProgramResult>();
  private count = 0;

  constructor(
    private readonly options: BatchOptions,
    private readonly root: string,
  ) {}

  async run(job: string, keep: boolean, name = `try-${++this.count}`, timeoutMs = this.options.timeoutMs): Promise<Difference | null> {
    const dir = join(this.root, name);
    const key = createHash('sha1').update(job, 'latin1').digest('base64');
    try {
      const cached = this.ours.get(key);
      const [theirs, ours] = await Promise.all([
        this.side(join(dir, 'theirs'), job, theirCommand(this.options), timeoutMs),
        cached ?? this.side(join(dir, 'ours'), job, ourCommand(this.options), Math.max(OUR_DEADLINE_MS, timeoutMs)),
      ]);
      // Only a clean run of ours is reused: a failure of ours is worth seeing again.
      if (ours.status.kind === 'exit') this.ours.set(key, ours);
      return compareRuns(theirs, ours);
    } finally {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    }
  }

  private side(dir: string, job: string, command: ProgramCommand, timeoutMs: number): Promise<ProgramResult> {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, JOB_FILE), job, 'latin1');
    return runProgram(command, dir, timeoutMs);
  }
}

/**
 * The differing runs in the order they are shrunk: the first of each kind of difference (a hang,
 * a crash by each signal, an order, a content) before the others, so that a few shrinks show as
 * many kinds as there are; then the rest in run order.
 */
export function shrinkOrder(differing: readonly number[], differences: ReadonlyMap<number, Difference>): number[] {
  const seen = new Set<string>();
  const first: number[] = [];
  const rest: number[] = [];
  for (const run of differing) {
    const kind = signature(differences.get(run)!);
    (seen.has(kind) ? rest : first).push(run);
    seen.add(kind);
  }
  return [...first, ...rest];
}

export async function checkBatch(options: BatchOptions, progress: (p: BatchProgress) => void = () => {}): Promise<BatchReport> {
  const root = options.workDir ?? mkdtempSync(join(tmpdir(), 'kvs-check-'));
  const keep = options.workDir !== null;
  mkdirSync(root, { recursive: true });
  const removeRoot = keep ? () => {} : trackFolder(root);
  try {
    const runner = new JobRunner(options, root);
    const jobs = generateJobs(options.seed, options.runs, { maxLines: options.maxLines });
    const differences = new Map<number, Difference>();
    let done = 0;
    let next = 0;
    progress({ phase: 'run', done, total: jobs.length, differing: 0 });
    const lane = async () => {
      while (next < jobs.length) {
        const index = next++;
        const difference = await runner.run(jobs[index]!, keep, `run-${index + 1}`);
        if (difference !== null) differences.set(index + 1, difference);
        progress({ phase: 'run', done: ++done, total: jobs.length, differing: differences.size });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, jobs.length)) }, lane));
    const slow: number[] = [];
    for (const [run, difference] of [...differences].filter(([, d]) => d.kind === 'hang')) {
      progress({ phase: 'confirm', run });
      const again = await runner.run(jobs[run - 1]!, keep, `run-${run}-again`, options.timeoutMs * HANG_CONFIRM_FACTOR);
      if (again === null) {
        differences.delete(run);
        slow.push(run);
      } else if (again.kind !== difference.kind) differences.set(run, again);
    }

    const differing = [...differences.keys()].sort((a, b) => a - b);
    const findings: Finding[] = [];
    for (const run of shrinkOrder(differing, differences).slice(0, options.shrink)) {
      const original = jobs[run - 1]!;
      const wanted = signature(differences.get(run)!);
      // A hang is shrunk with the longer deadline it was confirmed with: a candidate that is only
      // slow (a loaded machine) must not pass for one that hangs.
      const deadline = wanted === 'hang' ? options.timeoutMs * HANG_CONFIRM_FACTOR : options.timeoutMs;
      const shrunk = await shrinkJob(
        original,
        async (candidate) => {
          const difference = await runner.run(candidate, false, undefined, deadline);
          return difference !== null && signature(difference) === wanted;
        },
        options.shrinkSteps,
        (step, bytes) => progress({ phase: 'shrink', run, step, bytes }),
      );
      // Run once more, kept when asked, for the difference to print: the shrinker keeps only yes or no.
      const difference = (await runner.run(shrunk.job, keep, `run-${run}-shrunk`, deadline)) ?? differences.get(run)!;
      const job = difference === differences.get(run) ? original : shrunk.job;
      findings.push({ run, knownClass: classify(job, difference), job, difference, originalJob: original, steps: shrunk.steps, exhausted: shrunk.exhausted });
    }
    return { seed: options.seed, runs: jobs.length, identical: jobs.length - differing.length, differing, slow, findings };
  } finally {
    removeRoot();
  }
}
