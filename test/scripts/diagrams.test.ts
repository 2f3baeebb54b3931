import { readFile } from 'node:fs/promises';
import test from 'ava';
import { assign, createMachine, sendTo } from 'xstate';
import { ARCHITECTURE_DOC, MACHINES_DOC, drawMachine, eventLabel, fillDiagramBlocks, findMachines, renderMachinesDoc } from '../../scripts/diagrams.js';

test('docs/machines.md is what `npm run diagrams` generates from the machines now', async (t) => {
  const committed = await readFile(MACHINES_DOC, 'utf8').catch(() => '(missing)');
  // On failure: run `npm run diagrams` and commit docs/machines.md.
  t.is(committed, await renderMachinesDoc(), 'docs/machines.md is out of date: run `npm run diagrams`');
});

test('the diagrams in docs/architecture.md are what `npm run diagrams` draws from the machines now', async (t) => {
  const architecture = await readFile(ARCHITECTURE_DOC, 'utf8');
  t.true(architecture.includes('<!-- diagram:overview start'));
  t.is(architecture, fillDiagramBlocks(architecture, await findMachines()), 'a diagram in docs/architecture.md is out of date: run `npm run diagrams`');
});

test('a marked block is filled with the diagram of the machine it names', (t) => {
  const machine = createMachine({ id: 'tiny', initial: 'a', states: { a: {} } });
  const text = 'before\n<!-- diagram:tiny start -->\nold\n<!-- diagram:tiny end -->\nafter\n';
  t.is(
    fillDiagramBlocks(text, [{ file: 'actors/tiny.ts', exportName: 'tinyMachine', machine }]),
    'before\n<!-- diagram:tiny start -->\n```mermaid\nstateDiagram-v2\n  state "a" as s_a\n  [*] --> s_a\n```\n<!-- diagram:tiny end -->\nafter\n',
  );
});

test('the overview block is filled with the overview', (t) => {
  const filled = fillDiagramBlocks('<!-- diagram:overview start -->\n<!-- diagram:overview end -->\n', []);
  t.true(filled.startsWith('<!-- diagram:overview start -->\n```mermaid\nflowchart TB\n'), filled);
});

test('every machine in actors/ is found, the supervisor first', async (t) => {
  const ids = (await findMachines()).map((found) => found.machine.id);
  t.is(ids[0], 'supervisor');
  t.true(ids.includes('job'));
  t.true(ids.includes('backupCoordinator'));
});

test('a machine is drawn with every state named, its events, guards, and what runs inside a state in a note', (t) => {
  const machine = createMachine({
    id: 'door',
    initial: 'closed',
    states: {
      closed: { on: { open: { target: 'opening', guard: 'unlocked' }, knock: { actions: 'answer' } } },
      opening: { invoke: { id: 'motor', src: 'motor', onDone: 'open' }, after: { 500: 'stuck' } },
      open: { type: 'final' },
      stuck: { initial: 'waiting', states: { waiting: { always: { target: '#door.open', guard: 'ready' } } } },
    },
  });
  t.is(
    drawMachine(machine),
    [
      'stateDiagram-v2',
      '  state "closed" as s_closed',
      '  state "opening" as s_opening',
      '  state "open" as s_open',
      '  state "stuck" as s_stuck',
      '  [*] --> s_closed',
      '  note right of s_closed',
      '    knock / answer',
      '  end note',
      '  s_closed --> s_opening : open [unlocked]',
      '  note right of s_opening',
      '    runs motor',
      '  end note',
      '  s_opening --> s_open : motor done',
      '  s_opening --> s_stuck : after 500 ms',
      '  s_open --> [*]',
      '  state s_stuck {',
      '    state "waiting" as s_stuck_waiting',
      '    [*] --> s_stuck_waiting',
      '    s_stuck_waiting --> s_open : when ready',
      '  }',
    ].join('\n'),
  );
});

test('built-in actions say what they act on, and a short inline guard shows as written', (t) => {
  const machine = createMachine({
    id: 'm',
    initial: 'a',
    states: {
      a: {
        entry: [sendTo('backups', { type: 'coordinator.drain' }), assign({ n: 1 })],
        always: { guard: ({ context }) => context !== null, target: 'b' },
      },
      b: {},
    },
  });
  const text = drawMachine(machine);
  t.true(text.includes('    on entry / send coordinator.drain to backups, assign n\n'), text);
  t.true(text.includes('  s_a --> s_b : when context !== null'), text);
});

test('arrows between the same two states are one arrow with an event a line', (t) => {
  const machine = createMachine({ id: 'm', initial: 'a', states: { a: { on: { x: 'b', y: 'b' } }, b: {} } });
  t.true(drawMachine(machine).includes('  s_a --> s_b : x<br/>y'));
});

test('a transition on the machine itself is drawn from every top-level state that does not handle the event', (t) => {
  const machine = createMachine({
    id: 'session',
    initial: 'idle',
    on: { stop: '.stopping' },
    states: { idle: { on: { go: 'busy' } }, busy: {}, stopping: { on: { stop: {} } }, stopped: { type: 'final' } },
  });
  const lines = drawMachine(machine).split('\n');
  t.deepEqual(
    lines.filter((line) => line.includes(': stop')),
    ['  s_idle --> s_stopping : stop', '  s_busy --> s_stopping : stop'],
  );
  t.true(lines.includes('    stop / ignored'));
});

test('event labels read as words', (t) => {
  t.is(eventLabel('xstate.done.actor.listJobs'), 'listJobs done');
  t.is(eventLabel('xstate.error.actor.worker'), 'worker error');
  t.is(eventLabel('xstate.after.500.door.opening'), 'after 500 ms');
  t.is(eventLabel('job.done'), 'job.done');
});
