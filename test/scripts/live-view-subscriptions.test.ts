/**
 * The live view shows each subscription inside its session's card, with its key and state, from
 * SUBSCRIBE to its end with the reason: the relay's page in Debian's Chromium, a real server run
 * with `--inspect`, a real client. A screenshot is kept in test-artifacts/. Everything started is
 * stopped in t.teardown.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import type { Page } from 'puppeteer-core';
import { livePage } from '../helpers/live-page.js';
import { ARTIFACTS_DIR } from '../../scripts/render-diagrams.js';
import { waitForState } from '../helpers/fixtures.js';
import { startRelay } from '../helpers/inspector-relay.js';
import { ask, startClient, startServer, writeJob } from '../helpers/processes.js';

type Card = { name: string; subscriptions: { key: string; state: string; ended: string; text: string }[] };

function cards(page: Page): Promise<Card[]> {
  return page.evaluate(`[...document.querySelectorAll('.machine .instance')].map((row) => ({
    name: row.dataset.name,
    subscriptions: [...row.querySelectorAll('.subscription')].map((sub) => ({
      key: sub.dataset.key, state: sub.dataset.state, ended: sub.dataset.ended, text: sub.textContent,
    })),
  }))`) as Promise<Card[]>;
}

function waitForPage(page: Page, check: (seen: Card[]) => boolean, what: string, ms = 60_000): Promise<Card[]> {
  return waitForState(`the page to show ${what}`, () => cards(page), check, ms, 100);
}

/** The subscription rows of the one session that has any (named by its client, or its last one). */
function rows(seen: Card[]): Card['subscriptions'] {
  return seen.find((card) => /client /.test(card.name) && card.subscriptions.length > 0)?.subscriptions ?? [];
}

test('the live view lists each subscription in its session card with its key, its state, and its end with the reason', async (t) => {
  const relay = await startRelay(t);
  const { page, errors } = await livePage(t);
  await page.goto(relay.url.replace('ws://', 'http://') + '/');

  const server = await startServer(t, { sessions: 1, jobs: { 'a.job': 'WRITE [(a,1)(b,2)]\n' }, args: [`--inspect=${relay.url}`] });
  const client = await startClient(t, server.fifo);
  t.is(await ask(client, 'SUBSCRIBE a', 'subscribe'), '0');
  t.is(await ask(client, 'SUBSCRIBE b', 'subscribe'), '0');
  let seen = await waitForPage(page, (now) => rows(now).filter((row) => row.state === 'active').length === 2, 'two active subscriptions in a session card');
  t.deepEqual(rows(seen).map((row) => row.key).sort(), ['a', 'b']);
  // Not cards of their own: only inside their session.
  t.false(seen.some((card) => card.name.startsWith('subscription:')), JSON.stringify(seen));

  await writeJob(server.dir, 'delete.job', 'DELETE [a]\n');
  await client.waitForOutput('(a,DELETED)');
  t.is(await ask(client, 'UNSUBSCRIBE b', 'unsubscribe'), '0');
  seen = await waitForPage(
    page,
    (now) => rows(now).some((row) => row.key === 'a' && row.state === 'keyDeleted') && rows(now).some((row) => row.key === 'b' && row.ended === 'unsubscribe'),
    'a in keyDeleted and b ended by UNSUBSCRIBE',
  );
  t.regex(rows(seen).find((row) => row.key === 'b')!.text, /ended \(unsubscribe\)/);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'live-view-subscriptions.png'), fullPage: true });

  server.child.kill('SIGUSR1');
  seen = await waitForPage(page, (now) => rows(now).some((row) => row.key === 'a' && row.ended === 'reset'), 'a ended by SIGUSR1');
  t.regex(rows(seen).find((row) => row.key === 'a')!.text, /ended \(reset\)/);
  t.deepEqual(errors, []);
});
