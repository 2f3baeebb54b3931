/**
 * `check.js server` through the four pairings: this project against itself (wrapped as "theirs")
 * agrees everywhere; a client that drops the notifications of deleted keys is found in the session
 * that deletes a key, for the pairings with their client only; the course-like C client of the
 * tests (test/helpers/course-client.c) is found not to notice a session ended by SIGUSR1. Serial: each session starts a
 * server and clients, and a loaded machine must not make a step miss its deadline.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { PROJECT_ROOT, tempDir } from '../helpers/fixtures.js';
import { buildCourseClient } from '../helpers/course-client.js';
import { runCommand } from '../helpers/program-run.js';
import { CHECK, planted } from './planted.js';

function wrapper(t: ExecutionContext, name: string, target: string): string {
  const path = join(tempDir(t, 'kvs-wrapper-'), name);
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${join(PROJECT_ROOT, 'runtime', target)}" "$@" --compat=course\n`);
  chmodSync(path, 0o755);
  return path;
}

interface ServerReport {
  differing: Array<{ session: string; pairing: string }>;
  results: Array<{ name: string; reference: string[]; pairings: Array<{ name: string; same: boolean; transcript: string[] }> }>;
}

async function checkServer(t: ExecutionContext, server: string, client: string): Promise<{ code: number | null; report: ServerReport; stderr: string }> {
  const run = await runCommand(process.execPath, [CHECK, 'server', server, client, '--json'], { deadlineMs: 600_000 });
  t.false(run.killed, 'the checker ended by itself');
  return { code: run.code, report: JSON.parse(run.stdout) as ServerReport, stderr: run.stderr };
}

test.serial('this project against itself: every session gives the same transcript in every pairing', async (t) => {
  const { code, report, stderr } = await checkServer(t, wrapper(t, 'server', 'main.js'), wrapper(t, 'client', 'client.js'));
  t.deepEqual(report.differing, [], JSON.stringify(report.results, null, 1));
  t.is(code, 0, stderr);
  const notify = report.results.find((r) => r.name === 'subscribe-notify')!;
  t.deepEqual(notify.reference, [
    'c1: Server returned 0 for operation: connect',
    'c1: Server returned 1 for operation: subscribe',
    'c1: Server returned 1 for operation: subscribe',
    'c1: (a,9)',
    'c1: (b,DELETED)',
    'c1: Server returned 0 for operation: unsubscribe',
    'c1: Server returned 0 for operation: disconnect',
    'c1: exit 0',
  ]);
});

test.serial('a client that drops the notifications of deleted keys differs where a key is deleted, with their client only', async (t) => {
  const { code, report } = await checkServer(t, wrapper(t, 'server', 'main.js'), planted(t, 'client-no-deleted'));
  t.is(code, 1);
  t.deepEqual(
    report.differing,
    [
      { session: 'subscribe-notify', pairing: 'their client, their server' },
      { session: 'subscribe-notify', pairing: 'their client, our server' },
    ],
    JSON.stringify(report.results, null, 1),
  );
  const notify = report.results.find((r) => r.name === 'subscribe-notify')!;
  t.true(notify.pairings[0]!.transcript.some((line) => /no line matching/.test(line)), notify.pairings[0]!.transcript.join('\n'));
});

test.serial("the course-like C client as theirs agrees with ours in every session but SIGUSR1, where it does not notice the end of its session", async (t) => {
  const built = await buildCourseClient();
  t.teardown(() => built.remove());
  const { code, report } = await checkServer(t, wrapper(t, 'server', 'main.js'), built.binary);
  t.is(code, 1);
  t.deepEqual(
    report.differing,
    [
      { session: 'sigusr1', pairing: 'their client, their server' },
      { session: 'sigusr1', pairing: 'their client, our server' },
    ],
    JSON.stringify(report.results, null, 1),
  );
  const sigusr1 = report.results.find((r) => r.name === 'sigusr1')!;
  t.true(sigusr1.pairings[0]!.transcript.includes('c1: still running after 10000 ms'), sigusr1.pairings[0]!.transcript.join('\n'));
  t.true(sigusr1.reference.includes('c1: exit 1'));
});
