/**
 * Where two runs of one job disagree: their program against this project, every `.out` and
 * `.bck` byte for byte, and how each run ended. A hang or a death by a signal of theirs is a
 * difference whatever the files hold.
 */
import type { ProgramResult } from './program-run.js';

/**
 * - `hang`: their program outlived the deadline;
 * - `crash`: it died of a signal;
 * - `order`: the same lines in each differing file, in another order;
 * - `content`: other bytes, or a file only one side wrote;
 * - `ours`: this project hung or died of a signal (a bug here, not theirs).
 */
export type DifferenceKind = 'hang' | 'crash' | 'order' | 'content' | 'ours';

export interface FileDifference {
  readonly name: string;
  /** null: that side did not write the file. */
  readonly theirs: string | null;
  readonly ours: string | null;
}

export interface Difference {
  readonly kind: DifferenceKind;
  /** Every output file that differs, by name. */
  readonly files: readonly FileDifference[];
  readonly theirs: ProgramResult;
  readonly ours: ProgramResult;
}

/** Lines of a file's text, each without its `\n`; a last line without one is kept. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function sameLinesReordered(a: string, b: string): boolean {
  if (a === b || a.length !== b.length) return false;
  const x = splitLines(a).sort();
  const y = splitLines(b).sort();
  return x.length === y.length && x.every((line, i) => line === y[i]);
}

export function compareRuns(theirs: ProgramResult, ours: ProgramResult): Difference | null {
  const names = [...new Set([...theirs.files.keys(), ...ours.files.keys()])].sort();
  const files: FileDifference[] = [];
  for (const name of names) {
    const a = theirs.files.get(name) ?? null;
    const b = ours.files.get(name) ?? null;
    if (a !== b) files.push({ name, theirs: a, ours: b });
  }
  let kind: DifferenceKind;
  if (ours.status.kind !== 'exit') kind = 'ours';
  else if (theirs.status.kind === 'timeout') kind = 'hang';
  else if (theirs.status.kind === 'signal') kind = 'crash';
  else if (files.length === 0) return null;
  else kind = files.every((f) => f.theirs !== null && f.ours !== null && sameLinesReordered(f.theirs, f.ours)) ? 'order' : 'content';
  return { kind, files, theirs, ours };
}

/**
 * What a shrunk job must still show to count as the same difference: the same kind, and for a
 * crash the same signal. Without it a job that hangs could shrink to one that merely differs.
 */
export function signature(difference: Difference): string {
  const { status } = difference.theirs;
  return difference.kind === 'crash' && status.kind === 'signal' ? `crash ${status.signal}` : difference.kind;
}
