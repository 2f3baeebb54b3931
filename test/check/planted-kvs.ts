/**
 * Implementations for the checker to find: this project's batch program with one planted
 * difference each, run as `node planted-kvs.js <variant> <jobs_dir> <max_backups> <max_threads>`
 * (tests wrap it in a small shell script, as a user's C program would be one file).
 *
 * - same: no difference at all.
 * - reverse-show: every run of SHOW lines, in the `.out` and the `.bck`, reversed.
 * - casefold-show: SHOW and `.bck` lines sorted with case folded (a, A, b, B), as the C buckets do.
 * - first-duplicate: a key twice in one WRITE keeps its first value.
 * - swallow: a bad line swallows the line after it.
 * - hang-underscore: a job with a key starting with `_` hangs, with a child process that hangs too
 *   (its pid written to $PLANTED_PID_FILE, so a test can see that the checker killed the group).
 * - crash-empty-list: a job with an empty list `[]` writes `[` to its `.out` and dies of SIGSEGV.
 * - slow: this project, after a pause of $PLANTED_PAUSE_MS: slow, not hung.
 * - client-no-deleted: this project's client (`planted-kvs.js client-no-deleted <id> <fifo>`),
 *   which does not print the notifications of a deleted key.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLine, formatCommand } from '../../protocol/job-language.js';

const MAIN = fileURLToPath(new URL('../../../runtime/main.js', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../../runtime/client.js', import.meta.url));
const [variant, dir, ...numbers] = process.argv.slice(2);
if (variant === undefined || dir === undefined) throw new Error('usage: planted-kvs.js <variant> <jobs_dir> <max_backups> <max_threads>');

const jobs = variant.startsWith('client-') ? [] : readdirSync(dir).filter((name) => name.endsWith('.job'));
const read = (name: string) => readFileSync(join(dir, name), 'latin1');
const write = (name: string, text: string) => writeFileSync(join(dir, name), text, 'latin1');

function runOurs(): void {
  const result = spawnSync(process.execPath, [MAIN, dir!, ...numbers, '--compat=course', '--quiet'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Each run of SHOW lines `(k, v)` in every `.out` and `.bck`, rearranged by `order`. */
function rearrangeShows(order: (lines: string[]) => string[]): void {
  for (const name of readdirSync(dir!).filter((n) => n.endsWith('.out') || n.endsWith('.bck'))) {
    const lines = read(name).split('\n');
    const out: string[] = [];
    for (let i = 0; i < lines.length; ) {
      let j = i;
      while (j < lines.length && lines[j]!.startsWith('(')) j++;
      if (j > i) out.push(...order(lines.slice(i, j)));
      else out.push(lines[j++]!);
      i = j;
    }
    write(name, out.join('\n'));
  }
}

/** Each job rewritten line by line before ours runs it. */
function rewriteJobs(rewrite: (lines: string[]) => string[]): void {
  for (const job of jobs) write(job, rewrite(read(job).split('\n')).join('\n'));
}

switch (variant) {
  case 'same':
    runOurs();
    break;
  case 'slow':
    spawnSync('sleep', [String(Number(process.env['PLANTED_PAUSE_MS']) / 1000)]);
    runOurs();
    break;
  case 'reverse-show':
    runOurs();
    rearrangeShows((lines) => lines.reverse());
    break;
  case 'casefold-show': {
    runOurs();
    const key = (line: string) => line.slice(1, line.indexOf(',')).toLowerCase();
    rearrangeShows((lines) => lines.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)));
    break;
  }
  case 'first-duplicate':
    rewriteJobs((lines) =>
      lines.map((line) => {
        const parsed = parseLine(line.replace(/\r$/, ''));
        if (parsed?.kind !== 'write') return line;
        const pairs: string[] = [];
        for (let i = 0; i < parsed.pairs.length; i += 2) {
          if (!pairs.some((k, j) => j % 2 === 0 && k === parsed.pairs[i])) pairs.push(parsed.pairs[i]!, parsed.pairs[i + 1]!);
        }
        return formatCommand({ kind: 'write', pairs });
      }),
    );
    runOurs();
    break;
  case 'swallow':
    rewriteJobs((lines) => lines.map((line, i) => (i > 0 && parseLine(lines[i - 1]!)?.kind === 'invalid' ? '' : line)));
    runOurs();
    break;
  case 'hang-underscore':
    if (jobs.some((job) => /[[(,]\s*_/.test(read(job)))) {
      const child = spawn('sleep', ['600'], { stdio: 'ignore' });
      if (process.env['PLANTED_PID_FILE'] !== undefined) writeFileSync(process.env['PLANTED_PID_FILE'], `${child.pid}\n`, { flag: 'a' });
      setInterval(() => {}, 1000);
    } else runOurs();
    break;
  case 'crash-empty-list': {
    const crashing = jobs.find((job) => /\[\s*\]/.test(read(job)));
    if (crashing !== undefined) {
      write(crashing.replace(/\.job$/, '.out'), '[');
      process.kill(process.pid, 'SIGSEGV');
    } else runOurs();
    break;
  }
  case 'client-no-deleted': {
    const client = spawn(process.execPath, [CLIENT, dir, ...numbers, '--compat=course'], { stdio: ['inherit', 'pipe', 'inherit'] });
    let partial = '';
    client.stdout.setEncoding('latin1').on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (!line.endsWith(',DELETED)')) process.stdout.write(`${line}\n`);
    });
    client.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
    break;
  }
  default:
    throw new Error(`unknown variant ${variant}`);
}
