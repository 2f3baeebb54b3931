import { readFile } from 'node:fs/promises';
import test from 'ava';
import { createMachine } from 'xstate';
import { MACHINES_DOC, drawMachine, eventLabel, findMachines, renderMachinesDoc } from '../../scripts/diagrams.js';

test('docs/machines.md is what `npm run diagrams` generates from the machines now', async (t) => {
  const committed = await readFile(MACHINES_DOC, 'utf8').catch(() => '(missing)');
  // On failure: run `npm run diagrams` and commit docs/machines.md.
  t.is(committed, await renderMachinesDoc(), 'docs/machines.md is out of date: run `npm run diagrams`');
});

test('every machine in actors/ is found, the supervisor first', async (t) => {
  const ids = (await findMachines()).map((found) => found.machine.id);
  t.is(ids[0], 'supervisor');
  t.true(ids.includes('job'));
  t.true(ids.includes('backupCoordinator'));
});

test('a machine is drawn with its initial and final states, events, guards and invoked actors', (t) => {
  const machine = createMachine({
    id: 'door',
    initial: 'closed',
    states: {
      closed: { on: { open: { target: 'opening', guard: 'unlocked' }, knock: { actions: 'answer' } } },
      opening: { invoke: { id: 'motor', src: 'motor', onDone: 'open' }, after: { 500: 'stuck' } },
      open: { type: 'final' },
      stuck: { initial: 'waiting', states: { waiting: { always: '#door.open' } } },
    },
  });
  t.is(
    drawMachine(machine),
    [
      'stateDiagram-v2',
      '  [*] --> closed',
      '  closed --> opening : open [unlocked]',
      '  closed : knock / answer',
      '  opening : invoke motor (motor)',
      '  opening --> open : motor done',
      '  opening --> stuck : after 500 ms',
      '  open --> [*]',
      '  state stuck {',
      '    state "waiting" as stuck_waiting',
      '    [*] --> stuck_waiting',
      '    stuck_waiting --> open : always',
      '  }',
    ].join('\n'),
  );
});

test('event labels read as words', (t) => {
  t.is(eventLabel('xstate.done.actor.listJobs'), 'listJobs done');
  t.is(eventLabel('xstate.error.actor.worker'), 'worker error');
  t.is(eventLabel('xstate.after.500.door.opening'), 'after 500 ms');
  t.is(eventLabel('job.done'), 'job.done');
});
