/**
 * A page of the system's Chromium for the live-view tests: skips nothing (a missing Chromium fails
 * the test with how to install it), closes the browser in the teardown, and collects the page's
 * uncaught errors for the test to assert there were none.
 */
import type { ExecutionContext } from 'ava';
import type { Page } from 'puppeteer-core';
import { NO_CHROMIUM, findChromium, launchChromium } from '../../scripts/chromium.js';

export async function livePage(t: ExecutionContext): Promise<{ page: Page; errors: string[] }> {
  t.not(findChromium(), null, NO_CHROMIUM);
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1500, height: 1100 });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  return { page, errors };
}
