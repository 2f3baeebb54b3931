/**
 * Backups through the real program: their contents, the limit on backups in progress (observed
 * through the children's trace, with a gate holding each one open until the test opens it:
 * test/helpers/backup-hooks.ts), and a
 * backup child killed while it holds its temporary file. Backups under concurrent writers are
 * checked by the serial-order model in batch-concurrency.test.ts.
 */
import test from 'ava';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readBytes, runKvs, startKvs, stderrLines, tempDir, waitFor, writeFiles } from '../helpers/batch.js';
import { pidOfTemp } from '../../runtime/backup/stale-temps.js';
import { backupHooks } from '../helpers/backup-hooks.js';

const FENCE = 'READ [fence]';
const FENCE_OUT = '[(fence,KVSERROR)]\n';

test('each .bck holds exactly the SHOW printed just before its BACKUP while the job goes on changing the store', async (t) => {
  // 6000 keys: more than one chunk of a snapshot, so the writes after each BACKUP land while it is read.
  const keys = Array.from({ length: 6000 }, (_, i) => `key${String(i).padStart(5, '0')}`);
  const model = new Map<string, string>();
  const job: string[] = [];
  const expected: string[] = [];
  const write = (keep: (i: number) => boolean, tag: string) => {
    for (let i = 0; i < keys.length; i += 100) {
      const chosen = keys.slice(i, i + 100).filter((_, j) => keep(i + j));
      if (chosen.length > 0) job.push(`WRITE [${chosen.map((k) => `(${k},${tag}${k.slice(3)})`).join('')}]`);
      for (const k of chosen) model.set(k, `${tag}${k.slice(3)}`);
    }
  };
  const remove = (drop: (i: number) => boolean) => {
    for (let i = 0; i < keys.length; i += 100) {
      const chosen = keys.slice(i, i + 100).filter((_, j) => drop(i + j));
      if (chosen.length > 0) job.push(`DELETE [${chosen.join(',')}]`);
      for (const k of chosen) model.delete(k);
    }
  };
  const checkpoint = () => {
    job.push('SHOW', 'BACKUP', FENCE);
    expected.push([...model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `(${k},${v})\n`).join(''));
  };
  write(() => true, 'a');
  checkpoint();
  write((i) => i % 2 === 0, 'b');
  remove((i) => i % 3 === 0);
  checkpoint();
  write((i) => i % 3 === 0, 'c');
  remove((i) => i % 5 === 0);
  checkpoint();
  remove(() => true);
  checkpoint();
  write((i) => i % 7 === 0, 'd');

  const dir = tempDir(t);
  // A second job only reads while the first one writes and backs up.
  writeFiles(dir, { 'w.job': job.join('\n') + '\n', 'r.job': 'READ [key00001,key05999]\nWAIT 1\n'.repeat(200) });
  const result = await runKvs(t, [dir, '2', '2']);
  t.is(result.code, 0, result.stderr);
  // Between fences: that stretch's DELETE reports ('[' lines), then its SHOW ('(' lines).
  const sections = (readBytes(join(dir, 'w.out')) ?? '').split(FENCE_OUT);
  t.is(sections.pop(), '', 'the .out ends with the last fence');
  const shows = sections.map((text) => text.split('\n').filter((line) => line.startsWith('(')).map((line) => `${line}\n`).join(''));
  t.deepEqual(shows, expected, 'each SHOW is the store at that point');
  expected.forEach((show, i) => t.is(readBytes(join(dir, `w-${i + 1}.bck`)), show, `w-${i + 1}.bck`));
});

interface TraceEvent {
  readonly kind: 'start' | 'end';
  readonly pid: number;
}

function readTrace(path: string): TraceEvent[] {
  const text = readBytes(path) ?? '';
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [kind, pid] = line.split(' ');
      if (kind !== 'start' && kind !== 'end') throw new Error(`bad trace line ${line}`);
      return { kind, pid: Number(pid) };
    });
}

/** The most backups in progress at once, walking the trace in the order its lines were appended. */
function mostInProgress(events: readonly TraceEvent[]): number {
  let now = 0;
  let most = 0;
  for (const event of events) {
    now += event.kind === 'start' ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}

/** [max_backups, backups requested]: always more backups than slots. */
const LIMITS: ReadonlyArray<readonly [number, number]> = [
  [1, 3],
  [2, 5],
  [3, 5],
];

for (const [max, count] of LIMITS) {
  test(`no more than max_backups backups are in progress at once, and the limit is reached (max_backups ${max})`, async (t) => {
    const dir = tempDir(t);
    const scratch = tempDir(t);
    const trace = join(scratch, 'trace');
    // Every backup child waits at the gate before its rename until the test creates this file.
    const gate = join(scratch, 'gate');
    // One job per backup, all started at once (threads = count), so every BACKUP is asked for early.
    writeFiles(dir, Object.fromEntries(Array.from({ length: count }, (_, j) => [`b${j}.job`, `WRITE [(k${j},v${j})]\nBACKUP\n`])));
    const running = startKvs(t, [dir, String(max), String(count)], { env: backupHooks({ trace, gate }) });
    // Reached: with every child held at the gate, the scheduler fills all max slots and no more.
    const held = await waitFor(() => {
      const events = readTrace(trace);
      return events.filter((e) => e.kind === 'start').length >= max ? events : undefined;
    }, `${max} backups to start while the gate is closed (trace: ${readBytes(trace) ?? 'none'})`);
    t.deepEqual(held.filter((e) => e.kind === 'end'), [], 'no backup ends while the gate is closed');
    writeFiles(scratch, { gate: '' });
    const result = await running.result;
    t.is(result.code, 0, result.stderr);
    // Holds: counted from the children's own start and end records over the whole run.
    const events = readTrace(trace);
    t.is(events.filter((e) => e.kind === 'start').length, count);
    t.is(events.filter((e) => e.kind === 'end').length, count);
    t.is(mostInProgress(events), max, `at most ${max} in progress, and ${max} at once while held: ${JSON.stringify(events)}`);
    for (let j = 0; j < count; j++) {
      // Other jobs' keys may or may not be there yet; this job's own write is.
      const lines = (readBytes(join(dir, `b${j}-1.bck`)) ?? 'missing').split('\n');
      t.is(lines.pop(), '', `b${j}-1.bck ends with a newline`);
      t.true(lines.includes(`(k${j},v${j})`) && lines.every((line) => /^\(k\d+,v\d+\)$/.test(line)), `b${j}-1.bck: ${lines.join(' ')}`);
    }
  });
}

test.serial('a backup child killed while it holds its temporary file fails that backup alone and leaves no partial file', async (t) => {
  const dir = tempDir(t);
  const scratch = tempDir(t);
  const trace = join(scratch, 'trace');
  const gate = join(scratch, 'gate');
  writeFiles(dir, { 'a.job': 'WRITE [(k1,v1)]\nBACKUP\nWRITE [(k2,v2)]\nBACKUP\nWRITE [(k3,v3)]\nBACKUP\nSHOW\n' });
  const running = startKvs(t, [dir, '1', '2'], { env: backupHooks({ trace, gate }) });
  // With max_backups 1 the first backup is a-1; its child holds its temporary file until the gate opens.
  const pid = await waitFor(() => listDir(dir).map(pidOfTemp).find((p) => p !== undefined), 'the temporary file of a-1.bck');
  t.deepEqual(readTrace(trace)[0], { kind: 'start', pid }, 'the trace names the same child');
  process.kill(pid, 'SIGKILL');
  // The next backups run in a new child, which must not be held.
  writeFiles(scratch, { gate: '' });
  const result = await running.result;

  t.is(result.code, 1);
  const failures = stderrLines(result).filter((line) => /fail/i.test(line));
  t.is(failures.length, 1, result.stderr);
  t.regex(failures[0] ?? '', /a-1\.bck/);
  t.regex(failures[0] ?? '', /backup 1 of job a\b/);
  t.deepEqual(listDir(dir), ['a-2.bck', 'a-3.bck', 'a.job', 'a.out'], 'no a-1.bck and no temporary file');
  t.is(readBytes(join(dir, 'a-2.bck')), '(k1,v1)\n(k2,v2)\n');
  t.is(readBytes(join(dir, 'a-3.bck')), '(k1,v1)\n(k2,v2)\n(k3,v3)\n');
  t.is(readBytes(join(dir, 'a.out')), '(k1,v1)\n(k2,v2)\n(k3,v3)\n');
  t.false(readFileSync(trace, 'latin1').includes(`end ${pid} `), 'the killed child never finished');
});

test('a backup that cannot be written is reported with its job and number, leaves no temporary file, and the rest completes', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': 'WRITE [(k1,v1)]\nBACKUP\nBACKUP\nSHOW\n' });
  // A folder where a-1.bck should go: the rename over it fails.
  mkdirSync(join(dir, 'a-1.bck'));
  const result = await runKvs(t, [dir, '1', '1']);
  t.is(result.code, 1);
  const lines = stderrLines(result);
  t.is(lines.length, 1, result.stderr);
  t.regex(lines[0] ?? '', /a-1\.bck/);
  t.regex(lines[0] ?? '', /backup 1 of job a\b/);
  t.deepEqual(listDir(dir), ['a-1.bck', 'a-2.bck', 'a.job', 'a.out']);
  t.deepEqual(listDir(join(dir, 'a-1.bck')), []);
  t.is(readBytes(join(dir, 'a-2.bck')), '(k1,v1)\n');
  t.is(readBytes(join(dir, 'a.out')), '(k1,v1)\n');
});
