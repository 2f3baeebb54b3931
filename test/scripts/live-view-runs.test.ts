/**
 * The live view across program runs: each process numbers its actors from x:0, so the actors of a
 * run that ended must go when the next run starts, never be taken over by the new run's actors, and
 * no actor may show the state `undefined`. And the browser's own request for /favicon.ico is answered.
 * The relay's page in Debian's Chromium; real `node runtime/main.js ... --inspect` runs, and for the
 * snapshot without a value, a program connection that sends the inspector's messages itself.
 * Everything started is stopped in t.teardown.
 */
import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'puppeteer-core';
import WebSocket from 'ws';
import { NO_CHROMIUM, findChromium, launchChromium } from '../../scripts/chromium.js';
import { waitForState } from '../helpers/fixtures.js';
import { startRelay, type TestRelay } from '../helpers/inspector-relay.js';
import { makeJobsDir, runProgram } from '../helpers/program-run.js';

type Card = { name: string; run: string | undefined; state: string };

function cards(page: Page): Promise<Card[]> {
  return page.evaluate(`[...document.querySelectorAll('.machine .instance')].map((row) => ({
    name: row.dataset.name, run: row.dataset.run, state: row.querySelector('.state').textContent,
  }))`) as Promise<Card[]>;
}

function waitForPage(page: Page, check: (seen: Card[]) => boolean, what: string, ms = 60_000): Promise<Card[]> {
  return waitForState(`the page to show ${what}`, () => cards(page), check, ms, 100);
}

interface Watched {
  readonly page: Page;
  /** Every state text any card or subscription showed, as it changed (a MutationObserver's record). */
  states(): Promise<string[]>;
  /** Console errors, failed requests and HTTP errors the page met. */
  readonly problems: string[];
}

async function openView(t: ExecutionContext, browser: Browser, relay: TestRelay): Promise<Watched> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  page.on('console', (message) => void (message.type() === 'error' && problems.push(`console: ${message.text()}`)));
  page.on('response', (response) => void (response.status() >= 400 && problems.push(`${response.status()} for ${response.url()}`)));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
  await page.evaluateOnNewDocument(`
    window.kvsStates = [];
    new MutationObserver(() => {
      for (const element of document.querySelectorAll('.state')) window.kvsStates.push(element.textContent);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  `);
  await page.goto(relay.url.replace('ws://', 'http://') + '/');
  t.teardown(() => page.close().catch(() => undefined));
  return { page, problems, states: () => page.evaluate('window.kvsStates') as Promise<string[]> };
}

test('a new run takes the cards of the run that ended off the page, in an open page and in one opened later', async (t) => {
  t.not(findChromium(), null, NO_CHROMIUM);
  const relay = await startRelay(t);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const view = await openView(t, browser, relay);

  // Run 1: two jobs.
  const first = await makeJobsDir(t, { 'a.job': 'WRITE [(a,1)]\n', 'b.job': 'WRITE [(b,1)]\n' });
  const run1 = await runProgram([first, '1', '1', `--inspect=${relay.url}`, '--quiet']);
  t.is(run1.code, 0, run1.stderr);
  const after1 = await waitForPage(
    view.page,
    (seen) => ['a.job', 'b.job'].every((name) => seen.some((card) => card.name === name && card.run === '1' && /^done/.test(card.state))),
    'a.job and b.job of run 1 done',
  );
  t.true(after1.every((card) => card.run === '1'), JSON.stringify(after1));

  // Run 2: one job. Its actors have the session ids run 1's had.
  const second = await makeJobsDir(t, { 'c.job': 'WRITE [(c,1)]\n' });
  const run2 = await runProgram([second, '1', '1', `--inspect=${relay.url}`, '--quiet']);
  t.is(run2.code, 0, run2.stderr);
  const after2 = await waitForPage(
    view.page,
    (seen) => seen.some((card) => card.name === 'c.job' && card.run === '2' && /^done/.test(card.state)) && seen.some((card) => card.name === 'supervisor' && card.run === '2'),
    'c.job of run 2 done',
  );
  // Run 2 started before its c.job was done: by then run 1's actors were gone.
  t.deepEqual(after2.filter((card) => card.run !== '2'), []);
  t.false(after2.some((card) => card.name === 'b.job'), JSON.stringify(after2));

  // A page opened after run 2 ended is sent run 2 only.
  const late = await openView(t, browser, relay);
  const lateCards = await waitForPage(late.page, (seen) => seen.some((card) => card.name === 'c.job' && /^done/.test(card.state)), 'c.job done, in the late page');
  t.deepEqual(lateCards.filter((card) => card.run !== '2'), []);

  for (const watched of [view, late]) {
    const states = await watched.states();
    t.true(states.length > 0, 'the observer saw the cards');
    t.deepEqual(states.filter((text) => text.includes('undefined')), []);
    t.deepEqual(watched.problems, []);
  }
});

/** A program connection to the relay that sends what it is given, as the inspector's messages. */
async function fakeProgram(t: ExecutionContext, relay: TestRelay): Promise<{ send(message: object): void; close(): Promise<void> }> {
  const socket = new WebSocket(relay.url);
  t.teardown(() => socket.terminate());
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const common = { _version: '0.0.0', createdAt: String(Date.now()), id: null, rootId: 'x:0' };
  return {
    send: (message) => socket.send(JSON.stringify({ ...common, ...message })),
    close: () =>
      new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
      }),
  };
}

test('a snapshot without a value keeps the state shown; the next run reusing the session id gets a card of its own', async (t) => {
  t.not(findChromium(), null, NO_CHROMIUM);
  const relay = await startRelay(t);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const view = await openView(t, browser, relay);
  await view.page.waitForFunction(`document.getElementById('status').textContent === 'connected to the relay'`);

  const first = await fakeProgram(t, relay);
  first.send({ type: '@xstate.actor', name: 'job-2', sessionId: 'x:3', parentId: 'x:0', definition: JSON.stringify({ id: 'job' }), snapshot: { status: 'active', value: 'running' } });
  first.send({ type: '@xstate.snapshot', sessionId: 'x:3', snapshot: { status: 'stopped' } });
  let seen = await waitForPage(view.page, (now) => now.some((card) => card.name === 'job-2' && card.state.includes('stopped')), 'job-2 stopped');
  t.is(seen.find((card) => card.name === 'job-2')!.state, 'running (stopped)');
  await first.close();

  // A new run: its x:3 is another actor, with a snapshot of no value either.
  const second = await fakeProgram(t, relay);
  second.send({ type: '@xstate.actor', name: 'job-1', sessionId: 'x:3', parentId: 'x:0', definition: JSON.stringify({ id: 'job' }), snapshot: { status: 'active' } });
  second.send({ type: '@xstate.snapshot', sessionId: 'x:3', snapshot: { status: 'active', value: 'running' } });
  seen = await waitForPage(view.page, (now) => now.some((card) => card.name === 'job-1' && card.state === 'running'), 'job-1 running');
  t.deepEqual(seen.map((card) => [card.name, card.run]), [['job-1', '2']]);
  await second.close();

  const states = await view.states();
  t.deepEqual(states.filter((text) => text.includes('undefined')), []);
  t.deepEqual(view.problems, []);
});

test('/favicon.ico is answered with an empty 204, so a browser logs no 404', async (t) => {
  const relay = await startRelay(t);
  const response = await fetch(relay.url.replace('ws://', 'http://') + '/favicon.ico');
  t.is(response.status, 204);
  t.is(await response.text(), '');
});
