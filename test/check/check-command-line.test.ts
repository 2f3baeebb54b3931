import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parseCheckCommandLine } from '../../runtime/check/command-line.js';
import { PROJECT_ROOT, tempDir } from '../helpers/fixtures.js';
import { runCommand } from '../helpers/program-run.js';

const CHECK = join(PROJECT_ROOT, 'runtime', 'check.js');

const BAD: ReadonlyArray<[readonly string[], RegExp]> = [
  [[], /no mode: batch, public or server/],
  [['fuzz', 'x'], /unknown mode 'fuzz'/],
  [['batch'], /batch needs <their-kvs>/],
  [['batch', 'a', 'b'], /'b' is one too many/],
  [['batch', 'a', '--runs', '0'], /--runs needs a whole number from 1/],
  [['batch', 'a', '--runs', '1e3'], /--runs needs a whole number/],
  [['batch', 'a', '--timeout-ms', '-5'], /--timeout-ms/],
  [['batch', 'a', '--compat', 'c'], /--compat is seed or course, not 'c'/],
  [['batch', 'a', '--colour'], /Unknown option '--colour'/],
  [['public', 'a', '--runs', '3'], /--runs is not an option of public/],
  [['server', 'a'], /server needs <their-server> <their-client>/],
  [['server', 'a', 'b', '--shrink', '2'], /--shrink is not an option of server/],
];

for (const [argv, reason] of BAD) {
  test(`check ${argv.join(' ') || '(nothing)'} is refused: ${reason.source}`, (t) => {
    const parsed = parseCheckCommandLine(argv);
    t.is(parsed.mode, 'error');
    t.regex(parsed.mode === 'error' ? parsed.reason : '', reason);
  });
}

test('batch takes every option, and defaults the rest', (t) => {
  const parsed = parseCheckCommandLine(['batch', './kvs', '--runs', '7', '--seed', '0', '--compat', 'seed', '--json']);
  t.like(parsed, { mode: 'batch', theirs: './kvs', runs: 7, seed: 0, compat: 'seed', json: true, timeoutMs: 5_000, backups: 3, threads: 5 });
  t.like(parseCheckCommandLine(['batch', './kvs']), { seed: null, compat: 'course', workDir: null, json: false });
});

test('server takes two programs, and a step deadline of its own by default', (t) => {
  t.like(parseCheckCommandLine(['server', './s', './c']), { mode: 'server', theirServer: './s', theirClient: './c', timeoutMs: 10_000, threads: 5, backups: 3 });
  t.like(parseCheckCommandLine(['server', './s', './c', '--timeout-ms', '300', '--compat', 'seed']), { timeoutMs: 300, compat: 'seed' });
});

test('bad arguments exit 2 with the reason and a pointer to --help; --help exits 0', async (t) => {
  const bad = await runCommand(process.execPath, [CHECK, 'batch']);
  t.is(bad.code, 2);
  t.is(bad.stderr, 'check: batch needs <their-kvs>\ncheck: see `node runtime/check.js --help`\n');
  const help = await runCommand(process.execPath, [CHECK, '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage:\n  node runtime\/check.js batch <their-kvs>/);
  t.regex(help.stdout, /duplicate-key +a key twice in one WRITE keeps the first value/);
});

test('a program that does not exist or cannot be run is refused with exit 2, naming it', async (t) => {
  const dir = tempDir(t);
  const missing = await runCommand(process.execPath, [CHECK, 'batch', join(dir, 'kvs')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, new RegExp(`check: ${join(dir, 'kvs')} does not exist\n`));
  const plain = join(dir, 'plain');
  writeFileSync(plain, '#!/bin/sh\n');
  chmodSync(plain, 0o644);
  const notExecutable = await runCommand(process.execPath, [CHECK, 'public', plain]);
  t.is(notExecutable.code, 2);
  t.regex(notExecutable.stderr, /plain cannot be run \(not executable: chmod \+x it\)/);
  const folder = await runCommand(process.execPath, [CHECK, 'public', dir]);
  t.is(folder.code, 2);
  t.regex(folder.stderr, /is not a file/);
});
