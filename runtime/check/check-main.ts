/**
 * `node runtime/check.js`: the differential checker. Reads the command line, checks that the
 * programs named exist and can be run, runs the mode, prints the report (text, or JSON with
 * --json) and returns the exit status: 0 nothing differs, 1 something does, 2 bad arguments.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import { cleanUpNow } from './process-groups.js';
import { display, escapeControls } from '../../protocol/keys.js';
import { checkBatch, type BatchProgress, type BatchReport, type Finding } from './batch-check.js';
import { CHECK_HINT, CHECK_USAGE, parseCheckCommandLine, type BatchCommandLine, type ServerCommandLine } from './command-line.js';
import { REFERENCE, checkServers, type SessionResult } from './server-check.js';
import type { Difference } from './difference.js';
import { checkPublic, type PublicResult } from './public-check.js';
import { describeStatus } from './program-run.js';
import { formatDifference, formatJob, sideBySide } from './side-by-side.js';

const CLEAR_LINE = '\r\u001b[K';
const DEFAULT_COLUMNS = 100;

function say(line: string): void {
  process.stderr.write(`check: ${escapeControls(line)}\n`);
}

function badArguments(reason: string): number {
  say(reason);
  say(CHECK_HINT);
  return 2;
}

/** Why `path` cannot be run as a program, or null when it can. */
export function notRunnable(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    accessSync(path, constants.X_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${path} does not exist`;
    if (code === 'EACCES') return `${path} cannot be run (not executable: chmod +x it)`;
    return `${path} cannot be run: ${(error as Error).message}`;
  }
}

/** A live line on stderr when it is a terminal; nothing otherwise. */
function liveLine(): { show(text: string): void; clear(): void } {
  const live = process.stderr.isTTY === true;
  let shown = false;
  return {
    show(text) {
      if (!live) return;
      const columns = process.stderr.columns ?? DEFAULT_COLUMNS;
      process.stderr.write(`${CLEAR_LINE}check: ${text}`.slice(0, columns + CLEAR_LINE.length - 1));
      shown = true;
    },
    clear() {
      if (shown) process.stderr.write(CLEAR_LINE);
      shown = false;
    },
  };
}

function width(): number {
  return process.stdout.columns ?? DEFAULT_COLUMNS;
}

export async function checkMain(argv: readonly string[]): Promise<number> {
  const commandLine = parseCheckCommandLine(argv);
  if (commandLine.mode === 'help') {
    process.stdout.write(`${CHECK_USAGE}\n`);
    return 0;
  }
  if (commandLine.mode === 'error') return badArguments(commandLine.reason);
  // Their programs run in process groups of their own, out of reach of a Ctrl-C: stopped, the
  // checker kills them and removes its folders, then exits as a shell reports the signal.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUpNow();
      process.exit(128 + osConstants.signals[signal]);
    });
  }
  const programs = commandLine.mode === 'server' ? [commandLine.theirServer, commandLine.theirClient] : [commandLine.theirs];
  for (const program of programs) {
    const problem = notRunnable(program);
    if (problem !== null) return badArguments(problem);
  }
  try {
    if (commandLine.mode === 'batch') return await runBatch(commandLine);
    if (commandLine.mode === 'public') return await runPublic(commandLine.theirs, commandLine.timeoutMs, commandLine.json);
    return await runServer(commandLine);
  } catch (error) {
    // A program that passed the checks above and still cannot be started (no #! line: ENOEXEC).
    const { code, path } = error as NodeJS.ErrnoException;
    if (typeof code === 'string' && String((error as NodeJS.ErrnoException).syscall).startsWith('spawn')) return badArguments(`${path ?? 'a program'} cannot be started: ${code}`);
    throw error;
  }
}

async function runBatch(commandLine: BatchCommandLine): Promise<number> {
  const seed = commandLine.seed ?? randomInt(0, 2 ** 31 - 1);
  const line = liveLine();
  const progress = (p: BatchProgress) =>
    line.show(
      p.phase === 'run'
        ? `run ${p.done}/${p.total}, ${p.differing} differing`
        : p.phase === 'confirm'
          ? `run ${p.run} again, with a longer deadline`
          : `shrinking run ${p.run}: try ${p.step}, ${p.bytes} bytes`,
    );
  let report: BatchReport;
  try {
    report = await checkBatch({ ...commandLine, maxLines: commandLine.lines, seed }, progress);
  } finally {
    line.clear();
  }
  if (commandLine.json) process.stdout.write(`${JSON.stringify(batchJson(report), null, 2)}\n`);
  else process.stdout.write(batchText(report));
  return report.differing.length === 0 ? 0 : 1;
}

function classCounts(findings: readonly Finding[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.knownClass.name, (counts.get(f.knownClass.name) ?? 0) + 1);
  return counts;
}

function lineCount(job: string): number {
  return job.split('\n').length - (job.endsWith('\n') ? 1 : 0);
}

function batchText(report: BatchReport): string {
  const out: string[] = [];
  report.findings.forEach((finding, i) => {
    const { knownClass, difference } = finding;
    const from = lineCount(finding.originalJob);
    const to = lineCount(finding.job);
    out.push(`difference ${i + 1} of ${report.findings.length}: ${knownClass.name}: ${knownClass.title}`);
    out.push(`  the statement: ${knownClass.statement}`);
    out.push(`  run ${finding.run} of seed ${report.seed}, shrunk from ${from} line${from === 1 ? '' : 's'} to ${to} in ${finding.steps} tries${finding.exhausted ? ' (stopped by --shrink-steps)' : ''}; the job:`);
    out.push(...formatJob(finding.job, width()));
    out.push(...formatDifference(difference, width()));
    out.push('');
  });
  const counts = classCounts(report.findings);
  const shrunk = new Set(report.findings.map((f) => f.run));
  const notShrunk = report.differing.filter((run) => !shrunk.has(run));
  const unshrunk = notShrunk.length;
  out.push(
    `check: ${report.runs} runs (seed ${report.seed}): ${report.identical} identical, ${report.differing.length} differing` +
      (counts.size > 0 ? `; classes: ${[...counts].map(([name, n]) => (n > 1 ? `${name} x${n}` : name)).join(', ')}` : ''),
  );
  if (report.slow.length > 0) {
    out.push(`check: ${report.slow.length} run${report.slow.length === 1 ? '' : 's'} (${report.slow.join(', ')}) outlived --timeout-ms, then ended within a longer deadline and agreed: counted identical`);
  }
  if (unshrunk > 0) out.push(`check: ${unshrunk} more differing run${unshrunk === 1 ? '' : 's'} not shrunk (runs ${notShrunk.slice(0, 10).join(', ')}${unshrunk > 10 ? ', ...' : ''}; raise --shrink to see them)`);
  return `${out.join('\n')}\n`;
}

function differenceJson(difference: Difference) {
  return {
    kind: difference.kind,
    theirs: describeStatus(difference.theirs.status),
    ours: describeStatus(difference.ours.status),
    files: difference.files.map((f) => ({ name: f.name, theirs: f.theirs, ours: f.ours })),
  };
}

function batchJson(report: BatchReport) {
  return {
    mode: 'batch',
    seed: report.seed,
    runs: report.runs,
    identical: report.identical,
    differing: report.differing,
    slow: report.slow,
    classes: Object.fromEntries(classCounts(report.findings)),
    findings: report.findings.map((f) => ({
      run: f.run,
      class: f.knownClass.name,
      title: f.knownClass.title,
      statement: f.knownClass.statement,
      job: f.job,
      originalJob: f.originalJob,
      shrinkTries: f.steps,
      ...differenceJson(f.difference),
    })),
  };
}

async function runPublic(theirs: string, timeoutMs: number, json: boolean): Promise<number> {
  const line = liveLine();
  let results: PublicResult[];
  try {
    results = await checkPublic(theirs, timeoutMs, (done, total) => line.show(`public test ${done}/${total}`));
  } finally {
    line.clear();
  }
  const failed = results.filter((r) => r.difference !== null);
  if (json) {
    const cases = results.map((r) => ({ name: r.name, jobs: r.jobs, args: r.args, passed: r.difference === null, ...(r.difference === null ? {} : differenceJson(r.difference)) }));
    process.stdout.write(`${JSON.stringify({ mode: 'public', passed: results.length - failed.length, failed: failed.length, cases }, null, 2)}\n`);
  } else {
    const out: string[] = [];
    for (const r of results) {
      out.push(`${r.difference === null ? 'pass' : 'FAIL'} ${r.name} (${r.jobs.join(', ')}; ${r.args.join(' ')})`);
      if (r.difference !== null) out.push(...formatDifference(r.difference, width(), ['theirs', 'expected']), '');
    }
    out.push(`check: ${results.length} public tests: ${results.length - failed.length} passed, ${failed.length} failed${failed.length > 0 ? ` (${failed.map((r) => display(r.name)).join(', ')})` : ''}`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return failed.length === 0 ? 0 : 1;
}

async function runServer(commandLine: ServerCommandLine): Promise<number> {
  const line = liveLine();
  let results: SessionResult[];
  try {
    results = await checkServers(commandLine, (done, total) => line.show(`session ${done}/${total}`));
  } finally {
    line.clear();
  }
  const differing = results.flatMap((r) => r.pairings.filter((p) => !p.same).map((p) => ({ session: r.session.name, pairing: p.pairing.name })));
  if (commandLine.json) {
    const sessions = results.map((r) => ({
      name: r.session.name,
      what: r.session.what,
      reference: r.reference,
      pairings: r.pairings.map((p) => ({ name: p.pairing.name, same: p.same, transcript: p.transcript })),
    }));
    process.stdout.write(`${JSON.stringify({ mode: 'server', sessions: results.length, differing, results: sessions }, null, 2)}\n`);
  } else {
    const out: string[] = [];
    for (const r of results) {
      for (const p of r.pairings) {
        out.push(`${p.same ? 'same' : 'DIFFERS'} ${r.session.name} (${r.session.what}): ${p.pairing.name}`);
        if (!p.same) out.push(...sideBySide(p.transcript.join('\n') + '\n', r.reference.join('\n') + '\n', width(), [p.pairing.name, REFERENCE.name]), '');
      }
    }
    out.push(`check: ${results.length} sessions, ${results.length * (results[0]?.pairings.length ?? 0)} pairings beside ours: ${differing.length} differ`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return differing.length === 0 ? 0 : 1;
}
