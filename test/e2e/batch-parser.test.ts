/**
 * The job language as a user meets it: job files run by the real program, checked on the `.out`,
 * the `.bck` and the stderr report (docs/DESIGN.md section 2).
 */
import test from 'ava';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { jobsDir, readBytes, runKvs, stderrLines, type RunResult } from '../helpers/batch.js';

interface JobRun {
  readonly dir: string;
  readonly jobPath: string;
  readonly out: string | null;
  readonly result: RunResult;
}

/** Runs one job file `a.job` (text written as latin1 bytes) alone with 2 backups and 2 threads. */
async function runJob(t: ExecutionContext, text: string): Promise<JobRun> {
  const dir = jobsDir(t, { 'a.job': text });
  const result = await runKvs(t, [dir, '2', '2']);
  return { dir, jobPath: join(dir, 'a.job'), out: readBytes(join(dir, 'a.out')), result };
}

/** stderr reports of the form `<jobPath>:<line>: <reason>`, by line number. */
function reports(run: JobRun): Map<number, string[]> {
  const byLine = new Map<number, string[]>();
  for (const line of stderrLines(run.result)) {
    const prefix = `${run.jobPath}:`;
    const match = line.startsWith(prefix) ? /^(\d+): (.+)$/.exec(line.slice(prefix.length)) : null;
    if (match === null) throw new Error(`unexpected stderr line: ${line.slice(0, 200)}`);
    const n = Number(match[1]);
    byLine.set(n, [...(byLine.get(n) ?? []), match[2]!]);
  }
  return byLine;
}

const K41 = 'k'.repeat(41);
const V41 = 'v'.repeat(41);

/** A malformed line, and what its reason must say. Each one tries to change `probe`. */
const MALFORMED: ReadonlyArray<readonly [string, RegExp]> = [
  ['WRITE [.my.key,my_value]', /WRITE needs a list of pairs/],
  ['WRITE [probe,bad]', /WRITE needs a list of pairs/],
  ['WRITE [(probe,bad)', /WRITE needs a list of pairs/],
  ['WRITE (probe,bad)', /WRITE needs a list of pairs/],
  ['WRITE', /WRITE needs a list of pairs/],
  ['WRITE []', /at least one pair/],
  ['WRITE [(probe,bad)(c)]', /WRITE needs a list of pairs/],
  ['WRITE [(probe,bad)] trailing', /WRITE needs a list of pairs/],
  ['WRITE [(probe,bad)][(x,y)]', /WRITE needs a list of pairs/],
  ['WRITE [(probe,)]', /empty value/],
  ['WRITE [(,bad)]', /empty key/],
  ['WRITE [(probe,bad)(x,KVSERROR)]', /value 'KVSERROR' is a reserved word/],
  ['WRITE [(probe,KVSMISSING)]', /value 'KVSMISSING' is a reserved word/],
  ['WRITE [(probe,DELETED)]', /value 'DELETED' is a reserved word/],
  [`WRITE [(probe,bad)(${K41},v)]`, /key 'k{41}' is 41 bytes, longer than 40/],
  [`WRITE [(probe,${V41})]`, /value 'v{41}' is 41 bytes, longer than 40/],
  ['WRITE [(pro be,bad)]', /key 'pro be' has a space/],
  ['WRITE [(probe,b,ad)]', /value 'b,ad' has a reserved character ','/],
  ['WRITE [(probe,b(ad)]', /value 'b\(ad' has a reserved character '\('/],
  ['WRITE [(probe,ba\tx)]', /control character/],
  ['WRITE [(probe,bad)(x,\x7f)]', /control character/],
  ['READ', /READ needs a list of keys/],
  ['READ []', /READ needs at least one key/],
  ['READ [probe,,x]', /empty key/],
  ['READ probe', /READ needs a list of keys/],
  ['READ [probe', /READ needs a list of keys/],
  ['READ [pro\x01be]', /control character/],
  ['READ [probe]]', /reserved character '\]'/],
  ['DELETE []', /DELETE needs at least one key/],
  ['DELETE [probe,a b]', /key 'a b' has a space/],
  [`DELETE [probe,${K41}]`, /41 bytes/],
  ['DELETE probe', /DELETE needs a list of keys/],
  ['SHOW all', /SHOW takes no arguments/],
  ['BACKUP now', /BACKUP takes no arguments/],
  ['HELP me', /HELP takes no arguments/],
  ['WAIT', /WAIT needs a delay/],
  ['WAIT -1', /WAIT needs a delay/],
  ['WAIT 1.5', /WAIT needs a delay/],
  ['WAIT abc', /WAIT needs a delay/],
  ['WAIT 99999999999', /longer than/],
  ['FOO [probe]', /unknown command 'FOO'/],
  ['write [(probe,bad)]', /unknown command 'write' \(did you mean WRITE\?\)/],
  ['[(probe,bad)]', /must start with a command/],
  // Longer than the reader's line limit (1 MiB): skipped to its newline, not buffered.
  [`WRITE [(probe,${'x'.repeat((1 << 20) + 10)})]`, /too long/],
];

test('each malformed line is reported as file:line: reason, writes nothing, and the next line still runs', async (t) => {
  // Line 1 sets probe; then each malformed line is followed by a READ of probe.
  const lines = ['WRITE [(probe,ok)]'];
  for (const [bad] of MALFORMED) lines.push(bad, 'READ [probe]');
  const run = await runJob(t, lines.join('\n') + '\n');
  t.is(run.result.code, 0);
  t.is(run.out, '[(probe,ok)]\n'.repeat(MALFORMED.length));
  const byLine = reports(run);
  t.deepEqual([...byLine.keys()].sort((a, b) => a - b), MALFORMED.map((_, i) => 2 + 2 * i), 'exactly the malformed lines are reported');
  MALFORMED.forEach(([bad, reason], i) => {
    const said = byLine.get(2 + 2 * i) ?? [];
    t.is(said.length, 1, `line ${2 + 2 * i} reported once`);
    t.regex(said[0] ?? '', reason, `reason for ${JSON.stringify(bad.slice(0, 60))}`);
  });
});

test('keys and values of 40 bytes are accepted', async (t) => {
  const key = 'k'.repeat(40);
  const value = 'v'.repeat(40);
  const run = await runJob(t, `WRITE [(${key},${value})]\nREAD [${key}]\nSHOW\n`);
  t.is(run.result.stderr, '');
  t.is(run.out, `[(${key},${value})]\n(${key},${value})\n`);
});

test('keys and values are measured in bytes, not characters', async (t) => {
  // 'é' is two bytes in UTF-8: 20 of them are 40 bytes, 21 are 42.
  const e20 = Buffer.from('é'.repeat(20), 'utf8').toString('latin1');
  const e21 = Buffer.from('é'.repeat(21), 'utf8').toString('latin1');
  const a39e = Buffer.from('a'.repeat(39) + 'é', 'utf8').toString('latin1');
  const run = await runJob(t, `WRITE [(${e20},${e20})]\nWRITE [(${e21},x)]\nWRITE [(x,${a39e})]\nSHOW\n`);
  t.is(run.out, `(${e20},${e20})\n`);
  const byLine = reports(run);
  t.deepEqual([...byLine.keys()], [2, 3]);
  t.regex(byLine.get(2)?.[0] ?? '', /42 bytes/);
  t.regex(byLine.get(3)?.[0] ?? '', /41 bytes/);
});

test('bytes from the job are shown as UTF-8 in reports, with control characters escaped', async (t) => {
  const key = Buffer.from('ключ'.repeat(6), 'utf8').toString('latin1'); // 48 bytes
  const run = await runJob(t, `WRITE [(${key},v)]\nFROB\u001b[31m\nREAD [a\u0007b]\n`);
  const byLine = reports(run);
  // stderr is read back as latin1 here: the key's UTF-8 bytes, as they were in the job.
  t.is(byLine.get(1)?.[0], `key '${key}' is 48 bytes, longer than 40`);
  t.regex(byLine.get(2)?.[0] ?? '', /unknown command 'FROB\\x1b'/);
  t.regex(byLine.get(3)?.[0] ?? '', /key 'a\\x07b' has a space or control character/);
  t.false(run.result.stderr.includes('\u001b') || run.result.stderr.includes('\u0007'));
});

test('the reserved words are accepted as keys', async (t) => {
  const run = await runJob(t, 'WRITE [(KVSERROR,a)(KVSMISSING,b)(DELETED,c)]\nREAD [DELETED,KVSERROR,KVSMISSING]\n');
  t.is(run.result.stderr, '');
  t.is(run.out, '[(DELETED,c)(KVSERROR,a)(KVSMISSING,b)]\n');
});

test('comments and blank lines are ignored and still count for line numbers', async (t) => {
  const run = await runJob(t, '# a comment\n\n   \n\t\n   # an indented comment\n#WRITE [(a,1)]\nWRITE [(a,2)]\nBAD\nREAD [a]\n');
  t.is(run.out, '[(a,2)]\n');
  t.deepEqual([...reports(run).keys()], [8]);
});

test('CRLF line ends run like LF ones and no carriage return reaches the output', async (t) => {
  const run = await runJob(t, '# comment\r\n\r\nWRITE [(a,1)(b,2)]\r\nREAD [a,b,c]\r\nBAD\r\nDELETE [c]\r\nSHOW\r\nBACKUP\r\nWAIT 1\r\n');
  t.is(run.out, '[(a,1)(b,2)(c,KVSERROR)]\n[(c,KVSMISSING)]\n(a,1)\n(b,2)\nWaiting...\n');
  t.is(readBytes(join(run.dir, 'a-1.bck')), '(a,1)\n(b,2)\n');
  t.deepEqual([...reports(run).keys()], [5]);
});

test('a last line without a newline still runs', async (t) => {
  const run = await runJob(t, 'WRITE [(a,1)]\nREAD [a]');
  t.is(run.result.stderr, '');
  t.is(run.out, '[(a,1)]\n');
});

test('non-ASCII bytes in keys and values are kept exactly and sorted by byte value', async (t) => {
  // Byte order: 'Z' 0x5a < 'a' 0x61 < 'é' 0xc3 0xa9 < '日' 0xe6... < 0xff; invalid UTF-8 passes through.
  const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const pairs: Array<[string, string]> = [
    ['\xff\x80', utf8('ünï')],
    [utf8('日本'), '\xfe\xff'],
    [utf8('é'), utf8('ça')],
    ['a', '\x80'],
    ['Z', utf8('€')],
  ];
  const sorted = [...pairs].sort(([a], [b]) => (a < b ? -1 : 1));
  const show = sorted.map(([k, v]) => `(${k},${v})\n`).join('');
  const run = await runJob(t, `WRITE [${pairs.map(([k, v]) => `(${k},${v})`).join('')}]\nREAD [${pairs.map(([k]) => k).join(',')}]\nSHOW\nBACKUP\n`);
  t.is(run.result.stderr, '');
  t.is(run.out, `[${sorted.map(([k, v]) => `(${k},${v})`).join('')}]\n${show}`);
  t.is(readBytes(join(run.dir, 'a-1.bck')), show);
  t.deepEqual(sorted.map(([k]) => k), ['Z', 'a', utf8('é'), utf8('日本'), '\xff\x80']);
});

test('WAIT 0 prints nothing and a positive WAIT prints Waiting...', async (t) => {
  const run = await runJob(t, 'WAIT 0\nREAD [a]\nWAIT 1\nREAD [a]\nWAIT 0\n');
  t.is(run.result.stderr, '');
  t.is(run.out, '[(a,KVSERROR)]\nWaiting...\n[(a,KVSERROR)]\n');
});

test('HELP lists every command', async (t) => {
  const run = await runJob(t, 'HELP\n');
  t.is(run.result.stderr, '');
  const lines = (run.out ?? '').split('\n').map((line) => line.trim());
  for (const command of ['WRITE', 'READ', 'DELETE', 'SHOW', 'WAIT', 'BACKUP', 'HELP']) {
    t.true(lines.some((line) => line.startsWith(command)), `HELP mentions ${command}`);
  }
});

test('DELETE [k,k] deletes k then reports it missing', async (t) => {
  const run = await runJob(t, 'WRITE [(k,1)(j,2)]\nDELETE [k,k]\nREAD [j,k]\n');
  t.is(run.out, '[(k,KVSMISSING)]\n[(j,2)(k,KVSERROR)]\n');
});

test('the last of several pairs with the same key in one WRITE wins', async (t) => {
  const run = await runJob(t, 'WRITE [(b,1)(a,x)(b,2)(b,3)]\nREAD [a,b]\nSHOW\n');
  t.is(run.out, '[(a,x)(b,3)]\n(a,x)\n(b,3)\n');
});

test('READ lists keys in byte order with KVSERROR for missing ones', async (t) => {
  const run = await runJob(t, 'WRITE [(b,2)(B,1)]\nREAD [c,b,a,B]\n');
  t.is(run.out, '[(B,1)(a,KVSERROR)(b,2)(c,KVSERROR)]\n');
});

test('DELETE lists only the missing keys, in byte order, and nothing when none is missing', async (t) => {
  const run = await runJob(t, 'WRITE [(b,2)(d,4)]\nDELETE [z,b,a]\nDELETE [d]\nREAD [b,d]\n');
  t.is(run.out, '[(a,KVSMISSING)(z,KVSMISSING)]\n[(b,KVSERROR)(d,KVSERROR)]\n');
});

test('an empty job file gives an empty .out', async (t) => {
  const run = await runJob(t, '');
  t.is(run.result.code, 0);
  t.is(run.out, '');
});

test('every malformed line of jobs running in parallel is reported, none lost or repeated', async (t) => {
  const jobs = ['p', 'q', 'r', 's'];
  const text = Array.from({ length: 500 }, (_, i) => `WRITE [(x${i},1)]\nBAD ${i}\n`).join('') + 'READ [x499]\n';
  const dir = jobsDir(t, Object.fromEntries(jobs.map((name) => [`${name}.job`, text])));
  const result = await runKvs(t, [dir, '1', '4']);
  t.is(result.code, 0);
  const lines = stderrLines(result);
  for (const name of jobs) {
    const numbers = lines.filter((line) => line.startsWith(`${join(dir, name)}.job:`)).map((line) => Number(line.split(':')[1]));
    t.deepEqual(numbers, Array.from({ length: 500 }, (_, i) => 2 * i + 2), `${name}.job: every bad line once, in order`);
    t.is(readBytes(join(dir, `${name}.out`)), '[(x499,1)]\n');
  }
  t.deepEqual(lines.filter((line) => !/\.job:\d+: unknown command 'BAD'$/.test(line)), [], 'nothing else on stderr, and the summary last');
  t.is(lines.length, 4 * 500);
});
