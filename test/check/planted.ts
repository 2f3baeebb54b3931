/**
 * Runs the checker on an implementation with a planted difference (planted-kvs.ts). A test names
 * the seed whose six generated jobs hold the trigger: were the generator changed so that they no
 * longer do, `finding` says so, with the seed, rather than passing.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { PROJECT_ROOT, tempDir } from '../helpers/fixtures.js';
import { runCommand } from '../helpers/program-run.js';

export const CHECK = join(PROJECT_ROOT, 'runtime', 'check.js');
const PLANTED = join(PROJECT_ROOT, 'dist', 'test', 'check', 'planted-kvs.js');
/** Their deadline per run when nothing should hang: only a bound on a loaded machine. */
const NO_HANG_MS = 60_000;

/** The planted implementation as one executable file, as a student's program would be. */
export function planted(t: ExecutionContext, variant: string, env: Record<string, string> = {}): string {
  const path = join(tempDir(t, 'kvs-planted-'), variant);
  const exports = Object.entries(env).map(([name, value]) => `export ${name}='${value}'\n`).join('');
  writeFileSync(path, `#!/bin/sh\n${exports}exec "${process.execPath}" "${PLANTED}" ${variant} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

export interface Finding {
  class: string;
  job: string;
  kind: string;
  theirs: string;
  files: Array<{ name: string; theirs: string | null; ours: string | null }>;
}

export async function check(t: ExecutionContext, variant: string, seed: number, timeoutMs = NO_HANG_MS, env: Record<string, string> = {}, runs = 6) {
  const args = ['batch', planted(t, variant, env), '--runs', String(runs), '--seed', String(seed), '--lines', '6', '--shrink', '1', '--parallel', '1', '--timeout-ms', String(timeoutMs), '--json'];
  const run = await runCommand(process.execPath, [CHECK, ...args], { deadlineMs: 600_000 });
  t.false(run.killed, 'the checker ended by itself');
  const report = JSON.parse(run.stdout) as { differing: number[]; slow: number[]; findings: Finding[] };
  return { code: run.code, stderr: run.stderr, report };
}

export async function finding(t: ExecutionContext, variant: string, seed: number, timeoutMs?: number, env?: Record<string, string>): Promise<Finding> {
  const { code, report, stderr } = await check(t, variant, seed, timeoutMs, env);
  t.is(code, 1, stderr);
  t.true(report.findings.length > 0, `seed ${seed} no longer generates a job that shows the planted ${variant}`);
  return report.findings[0]!;
}

