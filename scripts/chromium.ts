/**
 * The system's Chromium (Debian's `chromium` package), driven by `puppeteer-core`, which never
 * downloads a browser. Used to render the Mermaid diagrams and by the live view's test.
 */
import { accessSync, constants } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Where distributions put Chromium; `CHROMIUM_PATH` comes first. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/snap/bin/chromium'];

/** The path of an executable Chromium, or null when there is none. */
export function findChromium(): string | null {
  const fromEnv = process.env['CHROMIUM_PATH'];
  for (const path of fromEnv ? [fromEnv, ...CANDIDATES] : CANDIDATES) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return null;
}

export const NO_CHROMIUM = 'no Chromium found: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH';

/** A headless Chromium; the caller closes it (in `finally` or `t.teardown`). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === null) throw new Error(NO_CHROMIUM);
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container has no user namespace for the sandbox; /dev/shm is often tiny there.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}
