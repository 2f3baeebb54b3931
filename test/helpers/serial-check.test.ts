/**
 * The model check of test/helpers/serial-check.ts, on its own: every serial run passes, and each kind
 * of wrong run it claims to catch fails. Without these, a check that accepts everything would
 * make the concurrency tests pass for nothing.
 */
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { checkRun, generateWorkload, simulate, type JobPlan, type PlanCommand, type Workload } from './serial-check.js';

/** A workload from lines like 'w g0 A0' (write value A0 to group 0), 'd g0', 'r g0 g1', 'show', 'backup'. */
function plan(groups: number, jobs: Readonly<Record<string, readonly string[]>>): Workload {
  const keys = Array.from({ length: groups }, (_, g) => [`g${g}a`, `g${g}b`]);
  const parsed: JobPlan[] = Object.entries(jobs).map(([name, lines]) => {
    let backups = 0;
    const commands = lines.map((line): PlanCommand => {
      const [op, ...args] = line.split(' ');
      const group = (s: string) => Number(s.slice(1));
      switch (op) {
        case 'w':
          return { kind: 'write', group: group(args[0]!), value: args[1]!, keys: keys[group(args[0]!)]! };
        case 'd':
          return { kind: 'delete', group: group(args[0]!) };
        case 'r':
          return { kind: 'read', groups: args.map(group), keys: args.flatMap((g) => keys[group(g)]!) };
        case 'show':
          return { kind: 'show' };
        case 'backup':
          return { kind: 'backup', n: ++backups };
        default:
          throw new Error(`bad plan line ${line}`);
      }
    });
    return { name, commands };
  });
  return { groups: keys, jobs: parsed };
}

function check(workload: Workload, outs: Record<string, string>, backups: Record<string, string> = {}): string[] {
  return checkRun(workload, new Map(Object.entries(outs)), (file) => backups[file] ?? null);
}

test('every serial interleaving of a generated workload passes the check', (t) => {
  const shape = { jobs: 3, commands: 40, groups: 3, keysPerGroup: 2, waitEvery: 10, backupEvery: 12 };
  fc.assert(
    fc.property(fc.integer(), fc.array(fc.nat(shape.jobs - 1), { maxLength: shape.jobs * shape.commands }), (seed, steps) => {
      const workload = generateWorkload(seed, shape);
      // The generated steps, then enough round-robin steps to finish every job.
      const order = [...steps, ...Array.from({ length: shape.jobs * 2 * shape.commands }, (_, i) => i % shape.jobs)];
      const { outs, backups } = simulate(workload, order);
      deepStrictEqual(checkRun(workload, outs, (file) => backups.get(file) ?? null), []);
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('a read of a group deleted by another job at some point passes', (t) => {
  const workload = plan(1, { A: ['w g0 A0', 'd g0'], B: ['r g0', 'r g0', 'r g0'] });
  t.deepEqual(check(workload, { A: '', B: '[(g0a,KVSERROR)(g0b,KVSERROR)]\n[(g0a,A0)(g0b,A0)]\n[(g0a,KVSERROR)(g0b,KVSERROR)]\n' }), []);
});

test('a torn READ fails the check', (t) => {
  const workload = plan(1, { A: ['w g0 A0'], B: ['r g0'] });
  const [violation] = check(workload, { A: '', B: '[(g0a,A0)(g0b,KVSERROR)]\n' });
  t.regex(violation ?? '', /torn group g0 in READ/);
});

test('a READ that goes back to an older write fails the check', (t) => {
  const workload = plan(1, { A: ['w g0 A0', 'w g0 A1'], B: ['r g0', 'r g0'] });
  t.deepEqual(check(workload, { A: '', B: '[(g0a,A0)(g0b,A0)]\n[(g0a,A1)(g0b,A1)]\n' }), [], 'forwards is fine');
  t.regex(check(workload, { A: '', B: '[(g0a,A1)(g0b,A1)]\n[(g0a,A0)(g0b,A0)]\n' })[0] ?? '', /no serial order fits/);
});

test('a READ that misses its own job\'s last write fails the check', (t) => {
  const workload = plan(1, { A: ['w g0 A0', 'w g0 A1', 'r g0'] });
  t.regex(check(workload, { A: '[(g0a,A0)(g0b,A0)]\n' })[0] ?? '', /no serial order fits/);
});

test('a READ that finds its own write gone with no one to delete it fails the check', (t) => {
  const workload = plan(1, { A: ['w g0 A0', 'r g0'] });
  t.regex(check(workload, { A: '[(g0a,KVSERROR)(g0b,KVSERROR)]\n' })[0] ?? '', /g0 absent, but no DELETE/);
});

test('a SHOW that sees a job\'s second write but not its first fails the check', (t) => {
  const workload = plan(2, { A: ['w g0 A0', 'w g1 A1'], B: ['show', 'r g0'] });
  t.deepEqual(check(workload, { A: '', B: '(g0a,A0)\n(g0b,A0)\n(g1a,A1)\n(g1b,A1)\n[(g0a,A0)(g0b,A0)]\n' }), []);
  t.regex(check(workload, { A: '', B: '(g1a,A1)\n(g1b,A1)\n[(g0a,A0)(g0b,A0)]\n' })[0] ?? '', /g0 absent, but no DELETE/);
});

test('a value seen after a third job overwrote it fails the check', (t) => {
  // B overwrites g0 after seeing A's later write; C sees B's later write, then A's g0 value again.
  const workload = plan(3, { A: ['w g0 A0', 'w g1 A1'], B: ['r g1', 'w g0 B0', 'w g2 B2'], C: ['r g2', 'r g0'] });
  const outs = { A: '', B: '[(g1a,A1)(g1b,A1)]\n' };
  t.deepEqual(check(workload, { ...outs, C: '[(g2a,B2)(g2b,B2)]\n[(g0a,B0)(g0b,B0)]\n' }), []);
  t.regex(check(workload, { ...outs, C: '[(g2a,B2)(g2b,B2)]\n[(g0a,A0)(g0b,A0)]\n' })[0] ?? '', /no serial order fits/);
});

test('a value that no write of the group wrote fails the check', (t) => {
  const workload = plan(2, { A: ['w g1 A0'], B: ['r g0'] });
  t.regex(check(workload, { A: '', B: '[(g0a,A0)(g0b,A0)]\n' })[0] ?? '', /no WRITE of g0 wrote/);
});

test('a DELETE that finds only part of its group missing fails the check', (t) => {
  const workload = plan(1, { A: ['d g0'] });
  t.deepEqual(check(workload, { A: '[(g0a,KVSMISSING)(g0b,KVSMISSING)]\n' }), []);
  t.regex(check(workload, { A: '[(g0a,KVSMISSING)]\n' })[0] ?? '', /torn DELETE/);
});

test('a DELETE that finds a group present that cannot be there fails the check', (t) => {
  const workload = plan(1, { A: ['d g0'], B: ['d g0'] });
  t.regex(check(workload, { A: '', B: '[(g0a,KVSMISSING)(g0b,KVSMISSING)]\n' })[0] ?? '', /g0 present, but no WRITE/);
});

test('a backup that misses a write before it fails the check', (t) => {
  const workload = plan(1, { A: ['w g0 A0', 'backup'] });
  t.deepEqual(check(workload, { A: '' }, { 'A-1.bck': '(g0a,A0)\n(g0b,A0)\n' }), []);
  t.regex(check(workload, { A: '' }, { 'A-1.bck': '' })[0] ?? '', /g0 absent/);
  t.regex(check(workload, { A: '' })[0] ?? '', /A-1.bck is missing/);
});

test('missing or extra output lines fail the check', (t) => {
  const workload = plan(1, { A: ['w g0 A0', 'r g0'] });
  t.regex(check(workload, { A: '' })[0] ?? '', /bad READ output/);
  t.regex(check(workload, { A: '[(g0a,A0)(g0b,A0)]\n[(g0a,A0)(g0b,A0)]\n' })[0] ?? '', /unexpected lines/);
  t.regex(check(workload, { A: '[(g0a,A0)(g0b,A0)]' })[0] ?? '', /does not end with a newline/);
});

test('SHOW lines out of key order fail the check', (t) => {
  const workload = plan(1, { A: ['w g0 A0', 'show', 'r g0'] });
  t.regex(check(workload, { A: '(g0b,A0)\n(g0a,A0)\n[(g0a,A0)(g0b,A0)]\n' })[0] ?? '', /out of order/);
});
