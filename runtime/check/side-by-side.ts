/**
 * A difference for a person: the job, and each differing file with their lines beside ours, the
 * lines that differ marked with `*`. Bytes are shown as UTF-8 with control characters escaped
 * (protocol/keys.ts `display`), so a job or an output cannot garble the terminal.
 */
import { display } from '../../protocol/keys.js';
import { splitLines, type Difference } from './difference.js';
import { describeStatus } from './program-run.js';

const ELLIPSIS = '…';

function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text + ' '.repeat(width - chars.length) : chars.slice(0, width - 1).join('') + ELLIPSIS;
}

/** A job's lines, numbered; a `\r` shows as `\x0d` and a missing last newline is said. */
export function formatJob(job: string, width: number): string[] {
  const lines = job.split('\n');
  const open = lines[lines.length - 1] !== '';
  if (!open) lines.pop();
  const out = lines.map((line, i) => `    ${String(i + 1).padStart(3)} | ${fit(display(line), width - 10).trimEnd()}`);
  if (open) out.push('        (no newline at the end of the last line)');
  if (lines.length === 0) out.push('        (an empty job)');
  return out;
}

/** The two sides of one file, line beside line. */
export type Labels = readonly [string, string];

export function sideBySide(theirs: string | null, ours: string | null, width: number, labels: Labels = ['theirs', 'ours']): string[] {
  const column = Math.max(16, Math.floor((width - 12) / 2));
  const a = theirs === null ? null : splitLines(theirs);
  const b = ours === null ? null : splitLines(ours);
  const out = [`          ${fit(labels[0], column)} | ${labels[1]}`];
  const rows = Math.max(a?.length ?? 1, b?.length ?? 1);
  for (let i = 0; i < rows; i++) {
    const left = a === null ? (i === 0 ? '(not written)' : '') : i < a.length ? display(a[i]!) : '';
    const right = b === null ? (i === 0 ? '(not written)' : '') : i < b.length ? display(b[i]!) : '';
    const differs = a?.[i] !== b?.[i];
    out.push(`    ${differs ? '*' : ' '} ${String(i + 1).padStart(3)} ${fit(left, column)} | ${fit(right, column).trimEnd()}`);
  }
  // A last line without its newline looks the same as one with it: say which.
  const openA = theirs !== null && theirs.length > 0 && !theirs.endsWith('\n');
  const openB = ours !== null && ours.length > 0 && !ours.endsWith('\n');
  if (openA !== openB) out.push(`      (${openA ? labels[0] : labels[1]} has no newline at the end)`);
  return out;
}

export function formatDifference(difference: Difference, width: number, labels: Labels = ['theirs', 'ours']): string[] {
  const out = [`  ${labels[0]}: ${describeStatus(difference.theirs.status)}; ${labels[1]}: ${describeStatus(difference.ours.status)}`];
  for (const file of difference.files) {
    out.push(`  ${display(file.name)}:`);
    out.push(...sideBySide(file.theirs, file.ours, width, labels));
  }
  if (difference.files.length === 0) out.push('  (the files written are the same)');
  const tail = difference.kind === 'crash' || difference.kind === 'hang' || difference.kind === 'ours' ? (difference.kind === 'ours' ? difference.ours : difference.theirs).log.trim() : '';
  if (tail !== '') out.push('  its last output:', ...tail.split('\n').slice(-5).map((line) => `    ${display(line)}`));
  return out;
}
