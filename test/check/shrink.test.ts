import test from 'ava';
import { lineItems, shrinkJob } from '../../runtime/check/shrink.js';

/** A stand-in for two program runs: the job "differs" when `holds` says so. */
function predicate(holds: (job: string) => boolean) {
  const seen: string[] = [];
  return { seen, stillFails: async (job: string) => (seen.push(job), holds(job)) };
}

test('a difference that needs a key written twice and a SHOW shrinks to those two lines, with simple names', async (t) => {
  const job = 'HELP\nWRITE [(x1,1)(zz,7)(x1,2)]\nREAD [q]\n# note\nSHOW\nWAIT 3\n';
  const holds = (text: string) => /WRITE \[\((\w+),\w+\)\(\1,\w+\)\]\n(.*\n)*SHOW\n/.test(text);
  const { stillFails } = predicate(holds);
  const result = await shrinkJob(job, stillFails, 500);
  t.is(result.job, 'WRITE [(a,a)(a,a)]\nSHOW\n');
  t.false(result.exhausted);
});

test('a line that is a valid command stays one while it shrinks', async (t) => {
  const { seen, stillFails } = predicate((text) => text.includes('(_'));
  const result = await shrinkJob('SHOW\nWRITE [(_key,value)(b,2)]\n', stillFails, 500);
  t.is(result.job, 'WRITE [(_,a)]\n');
  t.false(seen.some((job) => job.startsWith('(_')), 'no candidate without its WRITE [ ... ] was run');
});

test('an invalid line keeps its command word and may lose anything else', async (t) => {
  const { stillFails } = predicate((text) => text.includes('[]'));
  t.is((await shrinkJob('READ [a]\nREAD x []\nSHOW\n', stillFails, 500)).job, 'READ []\n');
});

test('a valid command is tried as this project writes it and loses one key at a time', async (t) => {
  const { stillFails } = predicate((text) => /\[[^\n]*_/.test(text));
  t.is((await shrinkJob('DELETE[b, _c,a]  \n', stillFails, 500)).job, 'DELETE [_]\n');
});

test('the search stops after maxSteps tries and returns the smallest job found by then', async (t) => {
  const { seen, stillFails } = predicate((text) => text.includes('SHOW'));
  const result = await shrinkJob(Array.from({ length: 40 }, (_, i) => `READ [k${i}]\n`).join('') + 'SHOW\n', stillFails, 3);
  t.is(seen.length, 3);
  t.true(result.exhausted);
  t.true(result.job.includes('SHOW') && result.job.length < 300);
});

test('a candidate is run once however often the search comes back to it', async (t) => {
  const { seen, stillFails } = predicate((text) => text.includes('SHOW') && text.includes('BACKUP'));
  await shrinkJob('SHOW\nHELP\nBACKUP\nHELP\n', stillFails, 500);
  t.is(new Set(seen).size, seen.length);
});

test('a line splits into items that rejoin to it: pairs, keys with their comma, the command word with its blank', (t) => {
  t.deepEqual(lineItems('WRITE [(a,1)(b,2)]'), ['WRITE ', '[', '(a,1)', '(b,2)', ']']);
  t.deepEqual(lineItems('READ [a,b]  # x'), ['READ ', '[', 'a,', 'b', ']', '  ', '#', ' ', 'x']);
  for (const line of ['WRITE[(a, b)]', '  SHOW\r', 'READ [a', '(((', 'WAIT 10 5']) t.is(lineItems(line).join(''), line);
});
