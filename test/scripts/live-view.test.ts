/**
 * The relay's own live view, in a real browser: `npm run inspect`'s script on a free loopback port,
 * Debian's Chromium driven by puppeteer-core, and a real `node runtime/main.js ... --inspect` run.
 * The page is opened first, so what it shows arrives while the program runs. A screenshot is kept
 * in test-artifacts/live-view.png. Everything started is stopped in t.teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { livePage } from '../helpers/live-page.js';
import { ARTIFACTS_DIR } from '../../scripts/render-diagrams.js';
import { freePort } from '../helpers/inspector-relay.js';
import { PROJECT_ROOT, makeJobsDir, runProgram } from '../helpers/program-run.js';
import { ask, startClient, startServer, uniqueId } from '../helpers/processes.js';

const RELAY = join(PROJECT_ROOT, 'dist', 'scripts', 'inspect-relay.js');

/** The relay as a child process; its stdout collected. */
async function startRelay(t: import('ava').ExecutionContext, port: number): Promise<{ output: () => string }> {
  const child = spawn(process.execPath, [RELAY, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  await until(() => output.includes('listening on'), () => `the relay did not start: ${output}`);
  return { output: () => output };
}

async function until(check: () => boolean, said: () => string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(said());
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * What the page shows: each machine (drawn or not, its highlighted states), its actors by name and
 * state, the folded lines of sessions with no client; the events the reader sees; the figures; and
 * the whole text of the page.
 */
function pageState(page: Page) {
  return page.evaluate(`(() => ({
    status: document.getElementById('status').textContent,
    figures: { ...document.getElementById('figures').dataset },
    machines: [...document.querySelectorAll('.machine')].map((article) => ({
      machine: article.dataset.machine,
      drawings: article.querySelectorAll('.diagram svg').length,
      highlighted: [...article.querySelectorAll('.diagram .kvs-active')].map((element) => element.textContent.trim()),
      instances: [...article.querySelectorAll('.instance')].map((row) => ({ name: row.dataset.name, state: row.dataset.state })),
      folded: [...article.querySelectorAll('.folded')].map((row) => ({ count: Number(row.dataset.count), state: row.dataset.state })),
    })),
    events: [...document.querySelectorAll('#events li')].filter((li) => li.offsetParent !== null).map((li) => li.textContent),
    allEvents: [...document.querySelectorAll('#events li')].map((li) => li.textContent),
    text: document.body.innerText,
  }))()`) as Promise<PageState>;
}

interface PageState {
  status: string;
  figures: Record<string, string>;
  machines: { machine: string; drawings: number; highlighted: string[]; instances: { name: string; state: string }[]; folded: { count: number; state: string }[] }[];
  /** The lines shown; allEvents also those behind the internals switch. */
  events: string[];
  allEvents: string[];
  text: string;
}

const machineOf = (seen: PageState, machine: string) => seen.machines.find((m) => m.machine === machine);
const instance = (seen: PageState, machine: string, name: string) => machineOf(seen, machine)?.instances.find((i) => i.name === name);
/** What the user must never be shown: the inspector's session ids (`x:0`, `s3/x:6`). */
const INTERNAL_ID = /(?:^|[\s(/])(?:s\d+\/)?x:\d+\b/;

async function waitForPage(page: Page, check: (seen: PageState) => boolean, what: string, ms = 20_000): Promise<PageState> {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await pageState(page);
    if (check(seen)) return seen;
    if (Date.now() > deadline) throw new Error(`the page never showed ${what}; it showed ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('the live view draws every live actor, highlights its state, lists events as they arrive, from local files only', async (t) => {
  const port = await freePort();
  const relay = await startRelay(t, port);
  const { page, errors } = await livePage(t);
  // Offline: any request that is not to the relay itself fails the test.
  const outside: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (new URL(request.url()).host === `127.0.0.1:${port}`) void request.continue();
    else {
      outside.push(request.url());
      void request.abort();
    }
  });
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitForPage(page, (seen) => seen.status === 'connected to the relay', 'a connection to the relay');

  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\nBACKUP\nWAIT 5000\nREAD [a]\n' });
  let program: ChildProcess | null = null;
  t.teardown(() => void program?.kill('SIGKILL'));
  const running = runProgram([dir, '1', '1', `--inspect=ws://127.0.0.1:${port}`, '--quiet'], { deadlineMs: 30_000, onSpawn: (child) => (program = child) });

  // While the job waits (its BACKUP asked for): its machine is drawn with a state of `live` highlighted,
  // and the job is listed by its file name; the supervisor's too.
  const live = await waitForPage(
    page,
    (seen) =>
      instance(seen, 'supervisor', 'supervisor') !== undefined && instance(seen, 'backupCoordinator', 'backups') !== undefined &&
      (instance(seen, 'job', 'a.job')?.state ?? '').startsWith('live.') && machineOf(seen, 'job')!.drawings === 1 &&
      machineOf(seen, 'job')!.highlighted.some((name) => ['live', 'applying', 'waitingForSlot'].includes(name)) &&
      seen.events.some((line) => line.includes('backup.request')),
    'a.job running, past its BACKUP',
  );
  t.true(machineOf(live, 'supervisor')!.drawings === 1 && machineOf(live, 'supervisor')!.highlighted.includes('running'), JSON.stringify(live.machines));
  t.is(machineOf(live, 'backupCoordinator')!.drawings, 1);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'live-view.png') });

  const run = await running;
  t.is(run.code, 0, run.stderr);
  // After the run: the job shows its final state, the events it sent are listed whole, the
  // figures say the one key, and the run's end is the newest line.
  const after = await waitForPage(
    page,
    (seen) => instance(seen, 'job', 'a.job')?.state === 'done' && seen.events.some((line) => line.includes('job.done')) && seen.figures['keys'] === '1' && / run 1 .* ended$/.test(seen.events[0] ?? ''),
    'a.job done, and the run ended',
  );
  t.true(machineOf(after, 'job')!.highlighted.includes('done'));
  // Whole: the event's fields to the last.
  t.regex(after.events.find((line) => line.includes('supervisor ← job.done'))!, /job\.done jobPath=\S+\/a\.job summary=\{commands: \d+, invalid: 0, backups: 1, stopped: false\}$/);
  t.regex(after.events.at(-1)!, / run 1 .* started$/, 'the run started before its events');
  t.deepEqual(after.events.filter((line) => line.includes(' ← xstate.')), [], "xstate's own events only behind the switch");
  t.true(after.allEvents.some((line) => line.includes(' ← xstate.init')));
  t.notRegex(after.text, INTERNAL_ID);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'live-view-done.png'), fullPage: true });

  await until(() => /disconnected after \d+ events relayed/.test(relay.output()), () => relay.output());
  t.regex(relay.output(), /inspect: a program connected from 127\.0\.0\.1:\d+\n/);
  const relayed = Number(/after (\d+) events relayed/.exec(relay.output())![1]);
  t.true(relayed > 10, relay.output());
  t.deepEqual(outside, [], 'the page asked for something outside the relay');
  t.deepEqual(errors, []);
});

test('a server in the live view: sessions by their client, the idle ones folded into one line, each machine drawn once, the data in figures', async (t) => {
  const port = await freePort();
  await startRelay(t, port);
  const { page, errors } = await livePage(t);
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitForPage(page, (seen) => seen.status === 'connected to the relay', 'a connection to the relay');

  const server = await startServer(t, { sessions: 7, jobs: { 'first.job': 'WRITE [(k,1)(j,2)]\n' }, args: [`--inspect=ws://127.0.0.1:${port}`] });
  const id = uniqueId();
  const client = await startClient(t, server.fifo, { id });
  t.is(await ask(client, 'SUBSCRIBE k', 'subscribe'), '0');
  const seen = await waitForPage(
    page,
    (now) =>
      machineOf(now, 'session')?.folded.some((line) => line.count === 6 && line.state === 'idle') === true &&
      instance(now, 'session', `client ${id}`)?.state === 'connected' &&
      instance(now, 'job', 'first.job')?.state === 'done' &&
      now.figures['keys'] === '2' &&
      now.machines.every((machine) => machine.drawings === 1),
    `the session of client ${id}, six idle sessions in one line, first.job done, 2 keys`,
    60_000,
  );
  t.deepEqual(machineOf(seen, 'session')!.instances.map((row) => row.name), [`client ${id}`], 'one line per session with a client');
  t.is(seen.machines.filter((machine) => machine.machine === 'session').length, 1, 'the session machine drawn once');
  t.true(machineOf(seen, 'session')!.highlighted.includes('connected'), JSON.stringify(machineOf(seen, 'session')));
  t.deepEqual(seen.machines.flatMap((machine) => machine.instances.map((row) => row.name)).filter((name) => /^(job|session)-\d+$/.test(name)), [], 'no internal actor names');
  t.notRegex(seen.text, INTERNAL_ID);
  t.regex(seen.text, /2 keys · \d+ commands\/s · 0 backups in progress/);
  t.true(seen.events.some((line) => line.includes(`client ${id} ← client.subscribe key=k exists=true`)), JSON.stringify(seen.events));
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'live-view-sessions.png') });
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'live-view-sessions-full.png'), fullPage: true });
  t.deepEqual(errors, []);
});
