/**
 * What the Stately inspector is shown of the actors (runtime/observe/inspect.ts sends it). Contexts hold
 * the piscina pool, the store, actor refs and callbacks: the inspector gets their names, not their
 * insides (a store of a million keys must not be serialized on every snapshot). And each root
 * actor's system gets ids of its own, so that separate root actors are not confused.
 */
import type { AnyEventObject, InspectionEvent } from 'xstate';
import type { StatelyInspectionEvent } from '@statelyai/inspect';

type ActorLike = InspectionEvent['actorRef'] & {
  readonly id?: string;
  readonly system?: object;
  readonly logic?: unknown;
  readonly _parent?: ActorLike;
};

/**
 * Every root actor made by `createActor` has an actor system of its own, and each system numbers
 * its actors from `x:0`: the supervisor and each server session would all be `x:0` to the
 * inspector. The first system seen keeps its ids; the actors of the n-th are shown as `sn/x:0`.
 */
export class SystemNames {
  private readonly prefixes = new WeakMap<object, string>();
  private count = 0;

  private prefixOf(actor: ActorLike | undefined): string {
    const system = actor?.system;
    if (system === undefined) return '';
    let prefix = this.prefixes.get(system);
    if (prefix === undefined) {
      prefix = this.count++ === 0 ? '' : `s${this.count}/`;
      this.prefixes.set(system, prefix);
    }
    return prefix;
  }

  rename(event: InspectionEvent): InspectionEvent {
    const actor = event.actorRef as ActorLike;
    const prefix = this.prefixOf(actor);
    const source = 'sourceRef' in event ? (event.sourceRef as ActorLike | undefined) : undefined;
    const sourcePrefix = this.prefixOf(source);
    if (prefix === '' && sourcePrefix === '') return event;
    return {
      ...event,
      rootId: prefix + event.rootId,
      actorRef: view(actor, prefix),
      ...(source === undefined ? {} : { sourceRef: view(source, sourcePrefix) }),
    } as InspectionEvent;
  }
}

/** What the package reads of an actor ref, with its session ids renamed. */
function view(actor: ActorLike, prefix: string): ActorLike {
  if (prefix === '') return actor;
  return {
    id: actor.id === actor.sessionId ? prefix + actor.id : actor.id,
    sessionId: prefix + actor.sessionId,
    logic: actor.logic,
    _parent: actor._parent === undefined ? undefined : view(actor._parent, prefix),
    getSnapshot: () => actor.getSnapshot(),
  } as unknown as ActorLike;
}


const MAX_DEPTH = 4;
const MAX_ITEMS = 50;
const MAX_STRING = 200;

/** A plain-data copy of `value` for display: bounded in depth, length and size. */
export function tidy(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}... (${value.length} chars)` : value;
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return undefined;
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    case 'symbol':
      return value.toString();
  }
  if (value === null) return null;
  const object = value as object;
  if (isActorRef(object)) return `[actor ${object.id}]`;
  if (Array.isArray(object)) {
    if (depth >= MAX_DEPTH) return `[${object.length} items]`;
    const items = object.slice(0, MAX_ITEMS).map((item) => tidy(item, depth + 1));
    if (object.length > MAX_ITEMS) items.push(`... ${object.length - MAX_ITEMS} more`);
    return items;
  }
  // A session's subscriptions are a Set: worth seeing, up to a bound.
  if ((object instanceof Set || object instanceof Map) && depth >= MAX_DEPTH) return `[${object.constructor.name} size ${object.size}]`;
  if (object instanceof Set) return [...[...bounded(object.values())].map((item) => tidy(item, depth + 1)), ...more(object.size)];
  if (object instanceof Map) {
    const entries = Object.fromEntries([...bounded(object.entries())].map(([key, item]) => [String(key), tidy(item, depth + 1)]));
    return object.size > MAX_ITEMS ? { ...entries, '...': `${object.size - MAX_ITEMS} more` } : entries;
  }
  const prototype = Object.getPrototypeOf(object) as object | null;
  if (prototype !== Object.prototype && prototype !== null) {
    if (object instanceof Error) return `[${object.name}: ${object.message}]`;
    const name = (prototype.constructor as { name?: string } | undefined)?.name ?? 'object';
    const size = (object as { size?: unknown }).size;
    return typeof size === 'number' ? `[${name} size ${size}]` : `[${name}]`;
  }
  if (depth >= MAX_DEPTH) return '[object]';
  const copy: Record<string, unknown> = {};
  let n = 0;
  for (const [key, item] of Object.entries(object)) {
    if (n++ === MAX_ITEMS) {
      copy['...'] = `${Object.keys(object).length - MAX_ITEMS} more keys`;
      break;
    }
    copy[key] = tidy(item, depth + 1);
  }
  return copy;
}

function* bounded<T>(items: Iterable<T>): Iterable<T> {
  let n = 0;
  for (const item of items) {
    if (n++ === MAX_ITEMS) return;
    yield item;
  }
}

function more(size: number): string[] {
  return size > MAX_ITEMS ? [`... ${size - MAX_ITEMS} more`] : [];
}

function isActorRef(value: object): value is { id: string } {
  const candidate = value as { id?: unknown; sessionId?: unknown; send?: unknown };
  return typeof candidate.sessionId === 'string' && typeof candidate.id === 'string' && typeof candidate.send === 'function';
}

/** A snapshot as the inspector reads it; `children` (live actor refs) is left out. */
export function tidySnapshot(snapshot: unknown): Record<string, unknown> {
  const { status, value, context, output, error } = (snapshot ?? {}) as Record<string, unknown>;
  const tidied: Record<string, unknown> = { status, value: tidy(value), context: tidy(context) };
  if (output !== undefined) tidied['output'] = tidy(output);
  if (error !== undefined) tidied['error'] = tidy(error);
  return tidied;
}

export function tidyMessage(message: StatelyInspectionEvent): StatelyInspectionEvent {
  const tidied: Record<string, unknown> = { ...message };
  if ('snapshot' in message) tidied['snapshot'] = tidySnapshot(message.snapshot);
  if ('event' in message) tidied['event'] = tidy(message.event) as AnyEventObject;
  return tidied as unknown as StatelyInspectionEvent;
}
