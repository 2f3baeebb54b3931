/**
 * The README is a front page and the reference lives in docs/: every relative link in them must
 * lead somewhere, the file and the heading it names (GitHub's anchors: lowercase, punctuation
 * dropped, blanks as hyphens).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers/processes.js';

/** GitHub's anchor for a heading's text. */
export function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(text: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading !== null) found.add(anchor(heading[1]!));
  }
  return found;
}

const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

test('every relative link of the README and docs/ leads to a file and a heading that exist', (t) => {
  const broken: string[] = [];
  let links = 0;
  for (const page of PAGES) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      links++;
      const [file, hash] = target.split('#') as [string, string | undefined];
      const path = file === '' ? page : normalize(join(dirname(page), file));
      if (!existsSync(join(ROOT, path))) {
        broken.push(`${page}: ${target} (no ${path})`);
        continue;
      }
      if (hash !== undefined && path.endsWith('.md') && !anchorsOf(readFileSync(join(ROOT, path), 'utf8')).has(hash)) {
        broken.push(`${page}: ${target} (no heading #${hash} in ${path})`);
      }
    }
  }
  t.true(links > 10, `read ${links} links`);
  t.deepEqual(broken, []);
});

test('the README stays a front page of at most 250 lines', (t) => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length;
  t.true(lines <= 250, `README.md has ${lines} lines: move reference material to docs/`);
});

test('anchors are made as GitHub makes them', (t) => {
  t.is(anchor('Many hosts, one store (what a user sees)'), 'many-hosts-one-store-what-a-user-sees');
  t.is(anchor('Server mode and the client'), 'server-mode-and-the-client');
  t.is(anchor('The `--store` option'), 'the---store-option');
});
