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
import { NO_CHROMIUM, findChromium, launchChromium } from '../../scripts/chromium.js';
import { ARTIFACTS_DIR } from '../../scripts/render-diagrams.js';
import { freePort } from '../helpers/inspector-relay.js';
import { PROJECT_ROOT, makeJobsDir, runProgram } from '../helpers/program-run.js';

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

/** What the page shows: each card's name, state text and whether a state is highlighted; the events. */
function pageState(page: Page) {
  return page.evaluate(`(() => ({
    status: document.getElementById('status').textContent,
    actors: [...document.querySelectorAll('.actor')].map((card) => ({
      name: card.dataset.name,
      state: card.querySelector('.state').textContent,
      drawn: card.querySelector('.diagram svg') !== null,
      highlighted: [...card.querySelectorAll('.diagram .kvs-active')].map((element) => element.textContent.trim()),
    })),
    events: [...document.querySelectorAll('#events li')].map((li) => li.textContent),
  }))()`) as Promise<{ status: string; actors: { name: string; state: string; drawn: boolean; highlighted: string[] }[]; events: string[] }>;
}

async function waitForPage(page: Page, check: (seen: Awaited<ReturnType<typeof pageState>>) => boolean, what: string, ms = 20_000): Promise<Awaited<ReturnType<typeof pageState>>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await pageState(page);
    if (check(seen)) return seen;
    if (Date.now() > deadline) throw new Error(`the page never showed ${what}; it showed ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('the live view draws every live actor, highlights its state, lists events as they arrive, from local files only', async (t) => {
  t.not(findChromium(), null, NO_CHROMIUM);
  const port = await freePort();
  const relay = await startRelay(t, port);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1500, height: 1100 });
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
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitForPage(page, (seen) => seen.status === 'connected to the relay', 'a connection to the relay');

  const dir = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\nBACKUP\nWAIT 5000\nREAD [a]\n' });
  let program: ChildProcess | null = null;
  t.teardown(() => void program?.kill('SIGKILL'));
  const running = runProgram([dir, '1', '1', `--inspect=ws://127.0.0.1:${port}`, '--quiet'], { deadlineMs: 30_000, onSpawn: (child) => (program = child) });

  // While the job waits (its BACKUP asked for): its card is drawn with `running` highlighted, and
  // the supervisor's too.
  const live = await waitForPage(
    page,
    (seen) => ['supervisor', 'job-1', 'backups'].every((name) => seen.actors.some((actor) => actor.name === name)) &&
      seen.actors.some((actor) => actor.name === 'job-1' && actor.drawn && actor.highlighted.includes('running')) &&
      seen.events.some((line) => line.includes('backup.request')),
    'the job running, past its BACKUP',
  );
  t.true(live.actors.some((actor) => actor.name === 'supervisor' && actor.drawn && actor.highlighted.includes('running')), JSON.stringify(live.actors));
  t.true(live.actors.some((actor) => actor.name === 'backups' && actor.drawn), JSON.stringify(live.actors));
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'live-view.png') });

  const run = await running;
  t.is(run.code, 0, run.stderr);
  // After the run: the job's card shows its final state, and the events it sent are listed.
  const after = await waitForPage(
    page,
    (seen) => seen.actors.some((actor) => actor.name === 'job-1' && actor.highlighted.includes('done')) && seen.events.some((line) => line.includes('job.done')),
    'the job done',
  );
  t.regex(after.actors.find((actor) => actor.name === 'job-1')!.state, /state: done/);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'live-view-done.png'), fullPage: true });

  await until(() => /disconnected after \d+ events relayed/.test(relay.output()), () => relay.output());
  t.regex(relay.output(), /inspect: a program connected from 127\.0\.0\.1:\d+\n/);
  const relayed = Number(/after (\d+) events relayed/.exec(relay.output())![1]);
  t.true(relayed > 10, relay.output());
  t.deepEqual(outside, [], 'the page asked for something outside the relay');
  t.deepEqual(errors, []);
});
