/**
 * Loaded with `--import` into every Node process of a run that test/helpers/backup-hooks.ts set up;
 * it acts in the backup child alone (runtime/backup/child.ts, compiled or bundled), at two seams
 * the child already has:
 *
 * - the requests on its stdin: a second reader decodes them beside the child's own, and a backup
 *   given (`begin`, or `copy` on Redis) is traced as `start`;
 * - the rename of its finished temporary file (`.kvs-backup.<pid>.<hex>.tmp`) into the `.bck`:
 *   `fs.renameSync` is wrapped, so the hold (a time, or a gate file) comes before it, and the `end`
 *   trace after it.
 *
 * The hold blocks the child's thread (Atomics.wait): a child writes one backup at a time and is
 * sent nothing more until it replies, so there is nothing else for it to do meanwhile. A child
 * orphaned at the gate (its parent was killed) fails the backup rather than wait forever.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { BUNDLE_ENTRIES, BUNDLE_FOLDER, PROJECT_ROOT } from '../../runtime/cli/program-files.js';
import { HOOK_VARIABLES } from './backup-hooks.js';

/** The backup child's entry, as tsc compiled it and as the bundle holds it. */
const CHILD_ENTRIES = [new URL(BUNDLE_ENTRIES.child, PROJECT_ROOT), new URL('child.js', BUNDLE_FOLDER)].map((url) => fileURLToPath(url));
const GATE_POLL_MS = 10;

if (isMainThread && CHILD_ENTRIES.includes(process.argv[1] ?? '')) await hookBackupChild();

async function hookBackupChild(): Promise<void> {
  const trace = process.env[HOOK_VARIABLES.trace];
  const holdMs = Number(process.env[HOOK_VARIABLES.holdMs] ?? 0);
  const gate = process.env[HOOK_VARIABLES.gate];
  const parentPid = process.ppid;
  const { pidOfTemp } = await import('../../runtime/backup/stale-temps.js');
  const record = (what: 'start' | 'end') => {
    if (trace !== undefined) fs.appendFileSync(trace, `${what} ${process.pid} ${Date.now()}\n`);
  };

  if (trace !== undefined) await traceRequests(() => record('start'));

  const pause = new Int32Array(new SharedArrayBuffer(4));
  const sleepSync = (ms: number) => void Atomics.wait(pause, 0, 0, ms);
  const rename = fs.renameSync;
  fs.renameSync = (from, to) => {
    if (pidOfTemp(basename(String(from))) !== process.pid) return rename(from, to);
    if (holdMs > 0) sleepSync(holdMs);
    while (gate !== undefined && !fs.existsSync(gate)) {
      if (process.ppid !== parentPid) throw new Error('the parent died while the backup waited at the test gate');
      sleepSync(GATE_POLL_MS);
    }
    rename(from, to);
    record('end');
  };
  // The child's `import { renameSync } from 'node:fs'` sees the wrapper.
  syncBuiltinESMExports();
}

/**
 * Calls `started` for each backup the child is given: when the child pipes its stdin into its
 * decoder, a second decoder is fed the same chunks, from the same first byte.
 */
async function traceRequests(started: () => void): Promise<void> {
  const { UnpackrStream } = await import('msgpackr');
  const { isToBackupChild } = await import('../../protocol/backup-messages.js');
  const stdin = process.stdin;
  const pipe = stdin.pipe;
  stdin.pipe = function <T extends NodeJS.WritableStream>(this: typeof stdin, destination: T, options?: { end?: boolean }): T {
    stdin.pipe = pipe;
    const piped = pipe.call(this, destination, options) as T;
    const requests = new UnpackrStream({ useRecords: false });
    // Bytes that do not decode are the child's to report (it exits on them).
    requests.on('error', () => undefined);
    requests.on('data', (message: unknown) => {
      if (isToBackupChild(message) && (message.t === 'begin' || message.t === 'copy')) started();
    });
    stdin.on('data', (chunk: Buffer) => requests.write(chunk));
    return piped;
  };
}
