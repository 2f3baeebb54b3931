/**
 * `npm run diagrams`: draws every XState machine exported by `actors/` as a Mermaid
 * `stateDiagram-v2` into `docs/machines.md`, from the machine definitions themselves (states,
 * initial and final states, transitions with their events and guards, invoked actors), so the
 * pictures cannot drift from the code. A test fails when the file is out of date.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StateMachine, type AnyStateMachine } from 'xstate';
import { OVERVIEW_LEGEND, drawOverview } from './overview.js';

/** The compiled `actors/` folder beside this script's compiled folder. */
const ACTORS_DIR = new URL('../actors/', import.meta.url);
/** `docs/machines.md` at the project root (this file runs from `dist/scripts/`). */
export const MACHINES_DOC = new URL('../../docs/machines.md', import.meta.url);
/** `docs/architecture.md`, whose marked blocks (`<!-- diagram:<machine id> start -->` ... end) are generated too. */
export const ARCHITECTURE_DOC = new URL('../../docs/architecture.md', import.meta.url);

export interface FoundMachine {
  /** `actors/<file>.ts` */
  readonly file: string;
  readonly exportName: string;
  readonly machine: AnyStateMachine;
}

/** The reading order: the way a run unfolds. Machines not listed follow, by file name. */
const READING_ORDER = ['supervisor', 'job', 'backup-coordinator', 'host', 'session', 'subscription'];

function rank(file: string): number {
  const at = READING_ORDER.indexOf(file.replace(/\.js$/, ''));
  return at === -1 ? READING_ORDER.length : at;
}

/** Every machine exported by a module in `actors/`, in reading order, then by file and export name. */
export async function findMachines(): Promise<FoundMachine[]> {
  const files = (await readdir(ACTORS_DIR))
    .filter((name) => name.endsWith('.js'))
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const found: FoundMachine[] = [];
  for (const file of files) {
    const module = (await import(new URL(file, ACTORS_DIR).href)) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(module).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (value instanceof StateMachine) found.push({ file: `actors/${file.replace(/\.js$/, '.ts')}`, exportName, machine: value as AnyStateMachine });
    }
  }
  return found;
}

// The parts of XState's state nodes read here (xstate 5: `machine.root`, `StateNode`).
interface NodeLike {
  readonly key: string;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  readonly path: readonly string[];
  readonly states: Record<string, NodeLike>;
  readonly initial?: { readonly target: readonly NodeLike[] } | undefined;
  readonly transitions: Map<string, readonly TransitionLike[]>;
  readonly always?: readonly TransitionLike[] | undefined;
  readonly invoke: readonly { readonly id: string; readonly src: unknown }[];
}

interface TransitionLike {
  readonly eventType: string;
  readonly target?: readonly NodeLike[] | undefined;
  readonly guard?: unknown;
  readonly actions: readonly unknown[];
}

interface NodeWithActions extends NodeLike {
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
}

/** The longest inline guard shown by its source text; a longer one shows as `guard`. */
const MAX_INLINE_GUARD = 48;

/**
 * A guard as written: `name`, `!name`, `a && b`; an inline function shows as its body
 * (`context.backupOutput !== null`) when that is short, else as `guard`.
 */
export function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && typeof (guard as { type?: unknown }).type === 'string') return (guard as { type: string }).type;
  if (typeof guard === 'function') {
    const { type, guards } = guard as { type?: string; guards?: unknown[] };
    if (type === 'xstate.not' && guards) return `!${guardName(guards[0])}`;
    if (type === 'xstate.and' && guards) return `(${guards.map(guardName).join(' && ')})`;
    if (type === 'xstate.or' && guards) return `(${guards.map(guardName).join(' || ')})`;
    if (type === 'xstate.stateIn') return 'stateIn';
    const body = /=>\s*([^{][^\n]*)$/.exec(String(guard))?.[1]?.trim();
    return body !== undefined && body.length <= MAX_INLINE_GUARD ? body : 'guard';
  }
  return '?';
}

/**
 * Actions as a reader says them: named actions by name, XState's built-ins with what they act on
 * (`send coordinator.drain to backups`, `send to parent`, `assign backupOutput`); inline
 * functions are left out.
 */
export function actionNames(actions: readonly unknown[]): string[] {
  const names: string[] = [];
  for (const action of actions) {
    const record = (typeof action === 'function' || typeof action === 'object') && action !== null ? (action as Record<string, unknown>) : null;
    const type = typeof action === 'string' ? action : record?.['type'];
    if (typeof type !== 'string') continue;
    // XState's own timers for `after` transitions, which the arrows already show.
    if (type === 'xstate.cancel') continue;
    if (type === 'xstate.raise' && /^xstate\.after\./.test(String((record?.['event'] as { type?: unknown } | undefined)?.type))) continue;
    if (type === 'xstate.sendTo' && record !== null) {
      const event = record['event'];
      const eventType = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
      const to = record['to'];
      const target = typeof to === 'string' ? to : typeof to === 'function' && /_parent/.test(String(to)) ? 'parent' : 'an actor';
      names.push(`send ${typeof eventType === 'string' ? `${eventType} ` : ''}to ${target}`);
    } else if (type === 'xstate.assign' && record !== null) {
      const assignment = record['assignment'];
      names.push(typeof assignment === 'object' && assignment !== null ? `assign ${Object.keys(assignment).join(', ')}` : 'assign');
    } else if (type === 'xstate.raise' && record !== null) {
      const event = record['event'];
      const eventType = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
      names.push(typeof eventType === 'string' ? `raise ${eventType}` : 'raise');
    } else {
      names.push(type.startsWith('xstate.') ? type.slice('xstate.'.length) : type);
    }
  }
  return names;
}

/** The event of a transition as a reader says it: `listJobs done`, `after 500 ms`, `always`. */
export function eventLabel(eventType: string): string {
  let match: RegExpMatchArray | null;
  if ((match = /^xstate\.done\.actor\.(.+)$/.exec(eventType))) return `${match[1]} done`;
  if ((match = /^xstate\.error\.actor\.(.+)$/.exec(eventType))) return `${match[1]} error`;
  if ((match = /^xstate\.after\.(\d+)\./.exec(eventType))) return `after ${match[1]} ms`;
  if ((match = /^xstate\.after\.([^.]+)\./.exec(eventType))) return `after ${match[1]}`;
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  if (eventType === '*') return 'any event';
  return eventType;
}

/** Characters Mermaid reads as syntax in a label or a note. */
function escapeLabel(text: string): string {
  return text.replace(/[:;#{}]/g, ' ').replace(/</g, '‹').replace(/>/g, '›');
}

/**
 * `event [guard] / actions`; a transition taken as soon as its guard holds reads
 * `when guard`, and one with neither event nor guard `at once`.
 */
function transitionLabel(event: string, transition: TransitionLike, withActions: boolean): string {
  const guard = transition.guard === undefined ? null : guardName(transition.guard);
  let label = event === 'always' ? (guard === null ? 'at once' : `when ${guard}`) : guard === null ? event : `${event} [${guard}]`;
  const actions = withActions ? actionNames(transition.actions) : [];
  if (actions.length > 0) label += ` / ${actions.join(', ')}`;
  return escapeLabel(label);
}

function stateId(node: NodeLike): string {
  return `s_${node.path.join('_').replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function sourceName(src: unknown): string {
  if (typeof src === 'string') return src;
  const id = (src as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : 'inline';
}

function transitionsOf(node: NodeLike): [string, TransitionLike][] {
  const all: [string, TransitionLike][] = [];
  for (const [eventType, transitions] of node.transitions) {
    for (const transition of transitions) all.push([eventLabel(eventType), transition]);
  }
  for (const transition of node.always ?? []) all.push(['always', transition]);
  return all;
}

/**
 * What happens inside a state without leaving it, one line each: the actors it invokes, its
 * entry and exit actions, and the events it handles in place. Drawn as a note beside the state
 * (Mermaid takes a state's first description line as its title, so descriptions would hide the
 * state's name).
 */
export function stateDetails(node: NodeLike): string[] {
  const details: string[] = [];
  for (const invoke of node.invoke) {
    const source = sourceName(invoke.src);
    details.push(`runs ${invoke.id}${source === invoke.id ? '' : ` (${source})`}`);
  }
  const { entry, exit } = node as NodeWithActions;
  const entryActions = actionNames(entry ?? []);
  if (entryActions.length > 0) details.push(`on entry / ${entryActions.join(', ')}`);
  const exitActions = actionNames(exit ?? []);
  if (exitActions.length > 0) details.push(`on exit / ${exitActions.join(', ')}`);
  for (const [event, transition] of transitionsOf(node)) {
    if ((transition.target ?? []).length > 0) continue;
    // A targetless transition without actions is there to override one from the machine.
    details.push(transition.actions.length === 0 && transition.guard === undefined ? `${escapeLabel(event)} / ignored` : transitionLabel(event, transition, true));
  }
  return details.map(escapeLabel);
}

/** The lines of one state's children: their declarations, notes and transitions. */
function drawChildren(parent: NodeLike, indent: string, lines: string[]): void {
  const children = Object.values(parent.states);
  // Every state is declared with its name as its title: Mermaid ids are global, names need not be.
  for (const child of children) lines.push(`${indent}state "${child.key}" as ${stateId(child)}`);
  if (parent.type === 'parallel') {
    // Each region is drawn as a composite of its own, separated by `--`.
    children.forEach((region, i) => {
      if (i > 0) lines.push(`${indent}--`);
      drawState(region, indent, lines);
    });
    return;
  }
  const initial = parent.initial?.target[0];
  if (initial !== undefined) lines.push(`${indent}[*] --> ${stateId(initial)}`);
  for (const child of children) drawState(child, indent, lines);
  if (parent.path.length === 0) drawMachineWide(parent, children, indent, lines);
}

/**
 * A transition on the machine itself is taken from whichever state is active, unless that state
 * handles the event itself: drawn as an arrow from each such top-level state.
 */
function drawMachineWide(root: NodeLike, children: readonly NodeLike[], indent: string, lines: string[]): void {
  for (const [eventType, transitions] of root.transitions) {
    for (const transition of transitions) {
      for (const target of transition.target ?? []) {
        for (const child of children) {
          if (child.type === 'final' || child === target || child.transitions.has(eventType)) continue;
          lines.push(`${indent}${stateId(child)} --> ${stateId(target)} : ${transitionLabel(eventLabel(eventType), transition, false)}`);
        }
      }
    }
  }
}

function drawState(node: NodeLike, indent: string, lines: string[]): void {
  const id = stateId(node);
  if (node.type === 'compound' || node.type === 'parallel') {
    lines.push(`${indent}state ${id} {`);
    drawChildren(node, `${indent}  `, lines);
    lines.push(`${indent}}`);
  }
  const details = stateDetails(node);
  if (details.length > 0) lines.push(`${indent}note right of ${id}`, ...details.map((line) => `${indent}  ${line}`), `${indent}end note`);
  // Transitions between the same two states are one arrow, its events one a line.
  const byTarget = new Map<string, string[]>();
  for (const [event, transition] of transitionsOf(node)) {
    for (const target of transition.target ?? []) {
      const labels = byTarget.get(stateId(target)) ?? [];
      labels.push(transitionLabel(event, transition, false));
      byTarget.set(stateId(target), labels);
    }
  }
  for (const [target, labels] of byTarget) lines.push(`${indent}${id} --> ${target} : ${labels.join('<br/>')}`);
  if (node.type === 'final') lines.push(`${indent}${id} --> [*]`);
}

/** One machine as a Mermaid `stateDiagram-v2` (without the code fence). */
export function drawMachine(machine: AnyStateMachine): string {
  const root = machine.root as unknown as NodeLike;
  const lines = ['stateDiagram-v2'];
  drawChildren(root, '  ', lines);
  return lines.join('\n');
}

function anchor(machine: AnyStateMachine): string {
  return machine.id.toLowerCase().replace(/[^a-z0-9-]/g, '');
}

/** The text around a diagram: what runs for the machine's whole life, and what it can start. */
function describeMachine(found: FoundMachine, all: readonly FoundMachine[]): string[] {
  const { machine } = found;
  const root = machine.root as unknown as NodeLike;
  const lines = [`## ${machine.id}`, '', `\`${found.exportName}\` in \`${found.file}\`.`, ''];
  for (const invoke of root.invoke) lines.push(`- Throughout its life it runs \`${invoke.id}\` (\`${sourceName(invoke.src)}\`).`);
  const startActions = actionNames((root as NodeWithActions).entry ?? []);
  if (startActions.length > 0) lines.push(`- When it starts it runs ${startActions.map((name) => `\`${name}\``).join(', ')}.`);
  for (const [event, transition] of transitionsOf(root)) {
    const targets = (transition.target ?? []).map((target) => target.key);
    lines.push(`- In any state, on \`${transitionLabel(event, transition, true)}\`${targets.length > 0 ? ` it goes to \`${targets.join(', ')}\`` : ''}.`);
  }
  const actors = Object.entries((machine.implementations.actors ?? {}) as Record<string, unknown>);
  if (actors.length > 0) {
    const names = actors.map(([name, logic]) => {
      const child = all.find((other) => other.machine === logic);
      return child === undefined ? `\`${name}\`` : `\`${name}\` ([${child.machine.id}](#${anchor(child.machine)}))`;
    });
    lines.push(`- Actors it invokes or spawns: ${names.join(', ')}.`);
  }
  if (lines[lines.length - 1] !== '') lines.push('');
  lines.push('```mermaid', drawMachine(machine), '```', '');
  return lines;
}

/** The whole of `docs/machines.md`. */
export async function renderMachinesDoc(): Promise<string> {
  const machines = await findMachines();
  const lines = [
    '# The machines',
    '',
    '<!-- Generated by `npm run diagrams` from the machine definitions in actors/: do not edit by hand. -->',
    '',
    'Every XState machine of IST-KVS, drawn from its definition, after an overview of the whole. An',
    'arrow is a transition, labelled with its event and `[guard]`; `when guard` is a transition taken',
    'as soon as its guard holds. The note beside a state lists what happens there without leaving it:',
    'the actors it runs while active, its entry actions, and the events it handles in place',
    '(`event / actions`). Watch them run with `npm run inspect` and `--inspect` (see the',
    '[observing.md](observing.md)).',
    '',
    '## Overview',
    '',
    'The actors, where each runs, who starts whom, and every kind of message between them.',
    '',
    ...OVERVIEW_LEGEND,
    '',
    '```mermaid',
    drawOverview(),
    '```',
    '',
  ];
  for (const found of machines) lines.push(...describeMachine(found, machines));
  return `${lines.join('\n').trimEnd()}\n`;
}

const BLOCK = /(<!-- diagram:([A-Za-z0-9_-]+) start[^>]*-->\n)[\s\S]*?(<!-- diagram:\2 end -->)/g;

/** `text` with each marked diagram block redrawn from the machine of that id. */
export function fillDiagramBlocks(text: string, machines: readonly FoundMachine[]): string {
  return text.replace(BLOCK, (_, start: string, id: string, end: string) => {
    if (id === 'overview') return `${start}${['```mermaid', drawOverview(), '```'].join('\n')}\n${end}`;
    const found = machines.find((candidate) => candidate.machine.id === id);
    const body = found === undefined ? `_(no \`${id}\` machine in this build)_` : ['```mermaid', drawMachine(found.machine), '```'].join('\n');
    return `${start}${body}\n${end}`;
  });
}

if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const text = await renderMachinesDoc();
  await writeFile(MACHINES_DOC, text);
  process.stdout.write(`wrote ${fileURLToPath(MACHINES_DOC)}\n`);
  const architecture = await readFile(ARCHITECTURE_DOC, 'utf8');
  const filled = fillDiagramBlocks(architecture, await findMachines());
  if (filled !== architecture) {
    await writeFile(ARCHITECTURE_DOC, filled);
    process.stdout.write(`updated the diagrams in ${fileURLToPath(ARCHITECTURE_DOC)}\n`);
  }
}
