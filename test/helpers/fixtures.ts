/**
 * The base of the test helpers: where the checkout is, the one temporary-folder maker and the one
 * polling helper. processes.ts (server and clients on FIFOs), batch.ts (batch runs) and
 * program-run.ts (runs with timing) build on these and re-export them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';

/** The checkout, with a trailing slash: this file is compiled to dist/test/helpers/. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = join(PROJECT_ROOT, 'runtime', 'main.js');

/**
 * The default deadline for an awaited event. A deadline only bounds how long a failing test
 * hangs, so it is generous: on a loaded 2-core machine (load average 40-70 under `npm run
 * test:stress`) a Node process took tens of seconds to start.
 * KVS_TEST_DEADLINE_MS overrides it.
 */
export const DEADLINE_MS = Number(process.env['KVS_TEST_DEADLINE_MS'] ?? 120_000);

/** A fresh folder under the system's temporary folder, removed when the test ends. */
export function tempDir(t: ExecutionContext, prefix = 'kvs-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files (text is written as latin1, so every char is one byte) into `dir`. */
export function writeFiles(dir: string, files: Readonly<Record<string, string | Uint8Array>>): void {
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? Buffer.from(content, 'latin1') : content);
  }
}

export type Probe = { ok: boolean; seen: string };

/**
 * The one polling helper: polls `probe` until it reports `ok`; past the deadline, fails with
 * `what` and the last thing the probe saw (`seen`), so a timeout says what state things were in
 * rather than only that it waited. Never a bare sleep.
 */
export async function waitUntilSeen(what: string, probe: () => Promise<Probe> | Probe, timeoutMs = DEADLINE_MS, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { ok, seen } = await probe();
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls a condition until it holds (waitUntilSeen for a yes/no condition). */
export function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = DEADLINE_MS, intervalMs = 20): Promise<void> {
  return waitUntilSeen(what, async () => ({ ok: await condition(), seen: 'the condition not holding' }), timeoutMs, intervalMs);
}

/**
 * Polls `read` until `check` holds of what it returns, and returns that; a timeout says what it
 * returned last (waitUntilSeen for a state read from outside, such as a page).
 */
export async function waitForState<T>(what: string, read: () => Promise<T>, check: (state: T) => boolean, timeoutMs = DEADLINE_MS, intervalMs = 20): Promise<T> {
  let last: T | undefined;
  await waitUntilSeen(what, async () => {
    last = await read();
    return { ok: check(last), seen: JSON.stringify(last) };
  }, timeoutMs, intervalMs);
  return last as T;
}

/** Polls `probe` until it returns a value other than undefined, and returns that value. */
export async function waitFor<T>(probe: () => T | undefined, what: string, deadlineMs = DEADLINE_MS, everyMs = 5): Promise<T> {
  let value: T | undefined;
  await waitUntilSeen(
    what,
    () => {
      value = probe();
      return { ok: value !== undefined, seen: 'no value yet' };
    },
    deadlineMs,
    everyMs,
  );
  return value!;
}
