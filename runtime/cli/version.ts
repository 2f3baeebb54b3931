/** `--version`: the package's name and version, read from its package.json (one place for both). */
import { readFileSync } from 'node:fs';

export function versionLine(): string {
  // From dist/runtime/cli/ in the checkout and in an installed package alike.
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${manifest.name} ${manifest.version}`;
}
