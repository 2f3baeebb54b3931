import { readFile } from 'node:fs/promises';
import test from 'ava';
import { createMachine } from 'xstate';
import { MACHINES_DOC, README, drawMachine, eventLabel, fillDiagramBlocks, findMachines, renderMachinesDoc } from '../../scripts/diagrams.js';

test('docs/machines.md is what `npm run diagrams` generates from the machines now', async (t) => {
  const committed = await readFile(MACHINES_DOC, 'utf8').catch(() => '(missing)');
  // On failure: run `npm run diagrams` and commit docs/machines.md.
  t.is(committed, await renderMachinesDoc(), 'docs/machines.md is out of date: run `npm run diagrams`');
});

test('the diagrams in the README are what `npm run diagrams` draws from the machines now', async (t) => {
  const readme = await readFile(README, 'utf8');
  t.true(readme.includes('<!-- diagram:session start'));
  t.is(readme, fillDiagramBlocks(readme, await findMachines()), 'a diagram in README.md is out of date: run `npm run diagrams`');
});

test('a marked block is filled with the diagram of the machine it names', (t) => {
  const machine = createMachine({ id: 'tiny', initial: 'a', states: { a: {} } });
  const text = 'before\n<!-- diagram:tiny start -->\nold\n<!-- diagram:tiny end -->\nafter\n';
  t.is(
    fillDiagramBlocks(text, [{ file: 'actors/tiny.ts', exportName: 'tinyMachine', machine }]),
    'before\n<!-- diagram:tiny start -->\n```mermaid\nstateDiagram-v2\n  [*] --> a\n```\n<!-- diagram:tiny end -->\nafter\n',
  );
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

test('a transition on the machine itself is drawn from every top-level state that does not handle the event', (t) => {
  const machine = createMachine({
    id: 'session',
    initial: 'idle',
    on: { stop: '.stopping' },
    states: { idle: { on: { go: 'busy' } }, busy: {}, stopping: { on: { stop: {} } }, stopped: { type: 'final' } },
  });
  const arrows = drawMachine(machine)
    .split('\n')
    .filter((line) => line.includes(': stop'));
  t.deepEqual(arrows, ['  stopping : stop', '  idle --> stopping : stop', '  busy --> stopping : stop']);
});

test('event labels read as words', (t) => {
  t.is(eventLabel('xstate.done.actor.listJobs'), 'listJobs done');
  t.is(eventLabel('xstate.error.actor.worker'), 'worker error');
  t.is(eventLabel('xstate.after.500.door.opening'), 'after 500 ms');
  t.is(eventLabel('job.done'), 'job.done');
});
