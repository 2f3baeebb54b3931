/**
 * What ships and what tests keep apart:
 * - the program reads no test switch: every environment variable read in protocol/, actors/ and
 *   runtime/ is one a user is told about in the README or docs/ (tests that need to hold a
 *   backup open do it from outside: test/helpers/backup-hooks.ts);
 * - the benchmarks and scripts import nothing from test/ (what they share with the tests lives
 *   where both may import it, as scripts/redis-server.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import test from 'ava';
import { ROOT } from '../helpers/processes.js';
import { sourceFiles, specifiers } from '../helpers/source-files.js';

/** The environment variables the program reads, each a knob a user may set (where it is documented). */
const USER_VARIABLES: Record<string, string> = {
  KVS_DEBUG: 'docs/running.md',
  KVS_REDIS_STALL_MS: 'docs/redis.md',
  XDG_CACHE_HOME: 'README.md',
  NODE_COMPILE_CACHE: 'README.md',
};

/** The variables a source text reads (`process.env.X`, `env['X']`), and `?` for a read by a computed name. */
export function variablesRead(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/\benv(?:\.([A-Za-z_]\w*)|\[\s*(['"`]?)([^\]'"`]*)\2\s*\])/g)) {
    found.push(match[1] ?? (match[2] === '' ? '?' : match[3]!));
  }
  return found;
}

test('the program reads only environment variables a user is told about', (t) => {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const folder of ['protocol', 'actors', 'runtime']) {
    for (const file of sourceFiles(folder, ['.ts', '.js'])) {
      for (const name of variablesRead(readFileSync(join(ROOT, file), 'utf8'))) {
        seen.add(name);
        if (USER_VARIABLES[name] === undefined) problems.push(`${file} reads ${name === '?' ? 'a variable by a computed name' : name}: a test switch, or undocumented`);
      }
    }
  }
  for (const [name, page] of Object.entries(USER_VARIABLES)) {
    t.true(seen.has(name), `${name} is read somewhere`);
    t.true(readFileSync(join(ROOT, page), 'utf8').includes(name), `${page} tells users about ${name}`);
  }
  t.deepEqual(problems, []);
});

test('the reader finds variables read in every form', (t) => {
  const source = "const a = process.env['KVS_A'];\nconst b = process.env.KVS_B;\nconst c = env[\"KVS_C\"];\nconst d = process.env[name];\n";
  t.deepEqual(variablesRead(source), ['KVS_A', 'KVS_B', 'KVS_C', '?']);
});

test('the benchmarks and scripts import nothing from test/', (t) => {
  const problems: string[] = [];
  for (const folder of ['bench', 'scripts']) {
    for (const file of sourceFiles(folder)) {
      for (const specifier of specifiers(readFileSync(join(ROOT, file), 'utf8'))) {
        if (specifier.startsWith('.') && normalize(join(dirname(file), specifier)).startsWith('test/')) problems.push(`${file} imports ${specifier}`);
      }
    }
  }
  t.deepEqual(problems, []);
});
