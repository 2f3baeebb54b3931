/**
 * The system as a whole, for the top of `docs/machines.md` and `docs/architecture.md`: one box per actor kind,
 * where it runs, who starts whom, and every message kind that flows between them. The message
 * names are the code's own (bus and backup-pipe `t` tags, client frame op codes, actor event
 * types); `test/scripts/overview.test.ts` reads them out of `protocol/` and `actors/` and fails when
 * one is missing here, or named here but gone from the code.
 */

export type Place = 'main' | 'worker' | 'child' | 'client';

export interface OverviewActor {
  readonly id: string;
  readonly label: string;
  readonly place: Place;
}

/**
 * How a message travels: `bus` (MessagePort between a worker and the main thread, msgpackr),
 * `pipe` (a backup child's stdin/stdout, msgpackr), `fifo` (the client protocol's bytes),
 * `event` (an XState event), `call` (a plain function call on the main thread).
 */
export type Channel = 'bus' | 'pipe' | 'fifo' | 'event' | 'call';

export interface OverviewLink {
  readonly from: string;
  readonly to: string;
  /** `starts` draws a dashed arrow: the one at the tail creates the one at the head. */
  readonly kind: 'starts' | 'messages';
  readonly channel?: Channel;
  readonly messages?: readonly string[];
  /** A word on how, for a `starts` arrow: `spawns`, `forks`, `invokes`. */
  readonly how?: string;
}

export const PLACES: Record<Place, string> = {
  main: 'main thread: node runtime/main.js',
  worker: 'worker threads: piscina pool of max_threads',
  child: 'child processes: forked at the first backup, reused',
  client: 'other processes',
};

export const OVERVIEW_ACTORS: readonly OverviewActor[] = [
  { id: 'runtime', label: 'runtime<br/>main.ts, server.ts:<br/>signals, jobs watcher', place: 'main' },
  { id: 'supervisor', label: 'supervisor<br/>(machine)', place: 'main' },
  { id: 'job', label: 'job actor, one per .job<br/>(machine)', place: 'main' },
  { id: 'store', label: 'store<br/>(owns the data)', place: 'main' },
  { id: 'registry', label: 'subscription registry', place: 'main' },
  { id: 'backups', label: 'backup coordinator<br/>(machine)', place: 'main' },
  { id: 'host', label: 'host<br/>(machine)', place: 'main' },
  { id: 'queue', label: 'connect queue<br/>(bounded buffer)', place: 'main' },
  { id: 'session', label: 'session, S of them<br/>(machine)', place: 'main' },
  { id: 'subscription', label: 'subscription, one per<br/>session and key<br/>(machine)', place: 'main' },
  { id: 'worker', label: 'job worker<br/>reads and parses the .job,<br/>writes the .out', place: 'worker' },
  { id: 'backupChild', label: 'backup child<br/>writes a .bck', place: 'child' },
  { id: 'client', label: 'client<br/>node runtime/client.js<br/>or a C client', place: 'client' },
];

export const OVERVIEW_LINKS: readonly OverviewLink[] = [
  { from: 'runtime', to: 'supervisor', kind: 'starts', how: 'starts' },
  { from: 'runtime', to: 'host', kind: 'starts', how: 'server mode: starts' },
  { from: 'runtime', to: 'session', kind: 'starts', how: 'server mode: starts S' },
  { from: 'runtime', to: 'backupChild', kind: 'starts', how: 'forks' },
  { from: 'supervisor', to: 'job', kind: 'starts', how: 'spawns' },
  { from: 'supervisor', to: 'backups', kind: 'starts', how: 'invokes' },
  { from: 'job', to: 'worker', kind: 'starts', how: 'runs a piscina task' },
  { from: 'session', to: 'subscription', kind: 'starts', how: 'spawns on SUBSCRIBE' },

  { from: 'runtime', to: 'supervisor', kind: 'messages', channel: 'event', messages: ['job.submit', 'supervisor.stop'] },
  { from: 'supervisor', to: 'job', kind: 'messages', channel: 'event', messages: ['job.stop'] },
  { from: 'job', to: 'supervisor', kind: 'messages', channel: 'event', messages: ['job.done', 'job.failed'] },
  // The job actor answers the worker's batches in order, as the store settles them.
  { from: 'job', to: 'worker', kind: 'messages', channel: 'bus', messages: ['stop', 'results', 'refused', 'failed'] },
  // The job machine's commands to the actor it invokes (id `worker`), which says them on the bus.
  { from: 'job', to: 'worker', kind: 'messages', channel: 'event', messages: ['apply', 'refuse', 'stop', 'fail'] },
  { from: 'worker', to: 'job', kind: 'messages', channel: 'event', messages: ['worker.batch', 'worker.done', 'worker.failed'] },
  { from: 'store', to: 'job', kind: 'messages', channel: 'event', messages: ['store.failed'] },
  { from: 'backups', to: 'job', kind: 'messages', channel: 'event', messages: ['slot.given'] },
  { from: 'worker', to: 'store', kind: 'messages', channel: 'bus', messages: ['batch'] },
  { from: 'job', to: 'backups', kind: 'messages', channel: 'event', messages: ['backup.request', 'backup.cancelled'] },
  { from: 'supervisor', to: 'backups', kind: 'messages', channel: 'event', messages: ['coordinator.drain'] },
  { from: 'backups', to: 'backupChild', kind: 'messages', channel: 'pipe', messages: ['begin', 'pairs', 'end', 'cancel', 'copy'] },
  { from: 'backupChild', to: 'backups', kind: 'messages', channel: 'pipe', messages: ['done', 'failed'] },
  { from: 'backupChild', to: 'backups', kind: 'messages', channel: 'event', messages: ['backup.finished'] },
  { from: 'store', to: 'registry', kind: 'messages', channel: 'call', messages: ['change'] },
  { from: 'client', to: 'host', kind: 'messages', channel: 'fifo', messages: ['connect'] },
  { from: 'client', to: 'host', kind: 'messages', channel: 'event', messages: ['request.malformed', 'request.partial'] },
  { from: 'runtime', to: 'host', kind: 'messages', channel: 'event', messages: ['signal.sigusr1', 'host.close'] },
  { from: 'host', to: 'queue', kind: 'messages', channel: 'call', messages: ['connect'] },
  { from: 'queue', to: 'host', kind: 'messages', channel: 'event', messages: ['buffer.full', 'buffer.space'] },
  { from: 'queue', to: 'session', kind: 'messages', channel: 'call', messages: ['connect'] },
  { from: 'runtime', to: 'session', kind: 'messages', channel: 'event', messages: ['server.close'] },
  // SIGUSR1: the host, its only listener, tells each session itself.
  { from: 'host', to: 'session', kind: 'messages', channel: 'event', messages: ['server.reset'] },
  { from: 'client', to: 'session', kind: 'messages', channel: 'fifo', messages: ['subscribe', 'unsubscribe', 'disconnect'] },
  {
    from: 'client',
    to: 'session',
    kind: 'messages',
    channel: 'event',
    messages: ['client.subscribe', 'client.unsubscribe', 'client.disconnect', 'client.malformed', 'client.gone', 'client.overflow'],
  },
  { from: 'session', to: 'client', kind: 'messages', channel: 'fifo', messages: ['response'] },
  { from: 'registry', to: 'session', kind: 'messages', channel: 'call', messages: ['notification'] },
  { from: 'session', to: 'subscription', kind: 'messages', channel: 'event', messages: ['subscription.end'] },
  { from: 'registry', to: 'subscription', kind: 'messages', channel: 'event', messages: ['key.deleted', 'key.created'] },
  { from: 'session', to: 'client', kind: 'messages', channel: 'fifo', messages: ['notification'] },
];

/** How each channel is named on an arrow. */
const CHANNEL_NAMES: Record<Channel, string> = {
  bus: 'bus',
  pipe: 'pipe',
  fifo: 'FIFO',
  event: 'event',
  call: 'call',
};

/** Every message name of one channel in the overview. */
export function overviewMessages(channel: Channel): Set<string> {
  const names = new Set<string>();
  for (const link of OVERVIEW_LINKS) if (link.channel === channel) for (const name of link.messages ?? []) names.add(name);
  return names;
}

/** The overview as a Mermaid flowchart (without the code fence). */
export function drawOverview(): string {
  const lines = ['flowchart TB'];
  for (const [place, title] of Object.entries(PLACES) as [Place, string][]) {
    lines.push(`  subgraph in_${place}["${title}"]`);
    for (const actor of OVERVIEW_ACTORS) if (actor.place === place) lines.push(`    ${actor.id}["${actor.label}"]`);
    lines.push('  end');
  }
  // Messages of several channels between the same two actors are one arrow.
  const merged = new Map<string, { from: string; to: string; lines: string[] }>();
  for (const link of OVERVIEW_LINKS) {
    if (link.kind === 'starts') {
      lines.push(`  ${link.from} -.->|"${link.how ?? 'starts'}"| ${link.to}`);
      continue;
    }
    const key = `${link.from} ${link.to}`;
    const arrow = merged.get(key) ?? { from: link.from, to: link.to, lines: [] };
    arrow.lines.push(`${CHANNEL_NAMES[link.channel ?? 'event']}: ${(link.messages ?? []).join(', ')}`);
    merged.set(key, arrow);
  }
  for (const { from, to, lines: label } of merged.values()) lines.push(`  ${from} -->|"${label.join('<br/>')}"| ${to}`);
  return lines.join('\n');
}

/** The words under the overview: what the channels are. */
export const OVERVIEW_LEGEND = [
  'Solid arrows carry messages, named as in the code; dashed arrows say who starts whom. `bus`: a',
  "worker's MessagePort to the main thread (`protocol/bus.ts`, msgpackr); `pipe`: a backup child's",
  'stdin and stdout (`protocol/backup-messages.ts`); `FIFO`: the client protocol\'s bytes',
  '(`protocol/frames.ts`); `event`: an XState event; `call`: a function call on the main thread.',
  "A test checks these names against the code's unions, so the picture cannot drift.",
];
