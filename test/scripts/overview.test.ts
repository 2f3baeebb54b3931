/**
 * The overview names every message kind the code has, and none it no longer has: the names are
 * read out of the sources of protocol/ and actors/ (the discriminants of their unions).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { OVERVIEW_ACTORS, OVERVIEW_LINKS, drawOverview, overviewMessages, type Channel } from '../../scripts/overview.js';
import { PROJECT_ROOT } from '../helpers/program-run.js';

async function source(path: string): Promise<string> {
  return readFile(join(PROJECT_ROOT, path), 'utf8');
}

/** `readonly t: 'batch';` in a protocol file: the tags of its messages. */
function tags(text: string): string[] {
  return [...text.matchAll(/readonly t: '([^']+)'/g)].map((match) => match[1]!);
}

/** The members of the event unions of an actor file, one a line: `  | { type: 'job.done'; ... }`. */
function eventTypes(text: string): string[] {
  return [...text.matchAll(/^\s*\|\s*\{\s*type: '([^']+)'/gm)].map((match) => match[1]!);
}

/** What the code has, channel by channel. */
async function codeMessages(): Promise<Record<Channel, Set<string>>> {
  const frames = await source('protocol/frames.ts');
  const ops = /export const OpCode = \{([^}]*)\}/.exec(frames)![1]!;
  const fifo = new Set([...ops.matchAll(/(\w+):/g)].map((match) => match[1]!.toLowerCase()));
  // The two frames the server sends, each with its encoder.
  for (const [, name] of frames.matchAll(/export function encode(Response|Notification)\(/g)) fifo.add(name!.toLowerCase());
  const events = new Set<string>();
  for (const file of (await readdir(join(PROJECT_ROOT, 'actors'))).filter((name) => name.endsWith('.ts'))) {
    for (const type of eventTypes(await source(join('actors', file)))) events.add(type);
  }
  return {
    bus: new Set(tags(await source('protocol/bus.ts'))),
    pipe: new Set(tags(await source('protocol/backup-messages.ts'))),
    fifo,
    event: events,
    // The store's one listener: `onChange(key, value)`, and the registry's `notify(frame)`.
    call: new Set(['change', 'notification', 'connect']),
  };
}

test('the overview names every message kind of the code, and only those', async (t) => {
  const code = await codeMessages();
  // The reading of the sources finds what it should, so the comparison below means something.
  t.true(code.bus.has('batch') && code.bus.has('results'));
  t.true(code.pipe.has('begin') && code.pipe.has('done'));
  t.true(code.fifo.has('connect') && code.fifo.has('notification'));
  t.true(code.event.has('backup.request') && code.event.has('client.subscribe') && code.event.has('job.done'), [...code.event].join(' '));
  for (const channel of Object.keys(code) as Channel[]) {
    const drawn = overviewMessages(channel);
    const missing = [...code[channel]].filter((name) => !drawn.has(name));
    const gone = [...drawn].filter((name) => !code[channel].has(name));
    t.deepEqual(missing, [], `${channel}: in the code but not in scripts/overview.ts`);
    t.deepEqual(gone, [], `${channel}: in scripts/overview.ts but not in the code`);
  }
});

test('every arrow of the overview joins two of its actors, and every actor has one', (t) => {
  const ids = new Set(OVERVIEW_ACTORS.map((actor) => actor.id));
  for (const link of OVERVIEW_LINKS) {
    t.true(ids.has(link.from) && ids.has(link.to), `${link.from} -> ${link.to}`);
  }
  for (const id of ids) t.true(OVERVIEW_LINKS.some((link) => link.from === id || link.to === id), id);
});

test('the overview is drawn with a box per actor in its place and an arrow per message kind', (t) => {
  const text = drawOverview();
  t.true(text.includes('subgraph in_worker["worker threads: piscina pool of max_threads"]'));
  t.true(text.includes('  worker -->|"bus: batch"| store'));
  t.true(text.includes('  runtime -.->|"forks"| backupChild'));
});
