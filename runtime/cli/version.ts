/**
 * How the program names itself: `--version`'s package name and version, read from its package.json
 * (one place for both), and the command a user typed, for the usage and the hints.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export function versionLine(): string {
  // From dist/runtime/cli/ in the checkout and in an installed package alike.
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${manifest.name} ${manifest.version}`;
}

/**
 * `text` with the checkout's form of the command (`node runtime/main.js`) written as the user ran
 * it: the package's `bin` name (`kvs`) when started through it (an install, `npm link`, `npx`).
 */
export function asTyped(text: string, checkoutForm: string, bin: string): string {
  return basename(process.argv[1] ?? '') === bin ? text.replaceAll(checkoutForm, bin) : text;
}
