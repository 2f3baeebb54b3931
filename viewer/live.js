// The live view: listens to the relay and shows a run in the user's words. Each machine is drawn
// once (Mermaid, served from node_modules), its live actors' states highlighted, with the actors
// listed under it by what they are to the user: a job by its file name, a session by its client's
// id, idle sessions folded into one line. The events are the program's own (xstate's internals
// behind a switch), newest first, run markers among them. The header shows the data's figures.
// Every program connection is a run, and every process numbers its actors from x:0: so actors are
// known by run and session id (never shown), and when a new run starts the runs that ended go.
/* global mermaid */
'use strict';

/** Events kept of each kind (the program's, xstate's internals), the oldest dropped first. */
const MAX_EVENTS = 150;
/** Ended subscriptions kept for a session, the oldest dropped first. */
const MAX_ENDED_SUBSCRIPTIONS = 20;
/** The drawings' size against Mermaid's own. */
const DIAGRAM_SCALE = 0.75;
/** Machines whose actors are listed elsewhere, not drawn: a subscription is a line in its session. */
const NOT_DRAWN = new Set(['subscription']);
const actors = new Map(); // run/sessionId -> { key, run, name, machine, parent, value, status, context, lastClient, order }
const machines = new Map(); // machine id -> { article, list, diagram, drawn }
const svgs = new Map(); // machine id -> Promise<svg text>
const runs = new Map(); // run id -> { label, from, live, startedLogged, endedLogged }
const cleared = new Set(); // runs whose actors were taken off: their late messages are ignored
let diagrams = {};
let renders = 0;
let order = 0;
let scheduled = false;

mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', state: { useMaxWidth: false } });

function stateIds(value, prefix = []) {
  // 'running' -> ['s_running']; { listening: 'reading' } -> ['s_listening', 's_listening_reading']
  const id = (path) => 's_' + path.join('_').replace(/[^A-Za-z0-9_]/g, '_');
  if (typeof value === 'string') return [id([...prefix, value])];
  if (value === null || typeof value !== 'object') return [];
  const ids = [];
  for (const [key, inner] of Object.entries(value)) ids.push(id([...prefix, key]), ...stateIds(inner, [...prefix, key]));
  return ids;
}

/** An actor across runs: its run's id (the relay's `kvsRun`; '' from a relay without it) and session id. */
function actorKey(message, sessionId = message.sessionId) {
  return `${message.kvsRun ?? ''}/${sessionId}`;
}

function describeValue(value) {
  // A snapshot without a value (an actor that is not a machine, or not reported yet).
  if (value === undefined) return 'unknown';
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return Object.entries(value).map(([key, inner]) => `${key}.${describeValue(inner)}`).join(', ');
}

// Keys are byte strings (one character a byte): shown as their UTF-8 text.
function keyText(key) {
  if (typeof key !== 'string') return '?';
  try {
    return new TextDecoder().decode(Uint8Array.from(key, (c) => c.charCodeAt(0) & 0xff));
  } catch {
    return key;
  }
}

const baseName = (path) => String(path).slice(String(path).lastIndexOf('/') + 1);

/** The client a session serves: its id when its FIFOs are the kvs client's (/tmp/req<id>), else the path. */
function clientOf(context) {
  const pipe = context?.request?.reqPipe;
  if (typeof pipe !== 'string') return null;
  const text = keyText(pipe);
  return text.startsWith('/tmp/req') && text.length > '/tmp/req'.length ? text.slice('/tmp/req'.length) : text;
}

/** What an actor is to the user. */
function displayName(actor) {
  if (actor === undefined) return '?';
  switch (actor.machine) {
    case 'job':
      return typeof actor.context?.jobPath === 'string' ? baseName(keyText(actor.context.jobPath)) : actor.name;
    case 'session': {
      const client = clientOf(actor.context);
      return client !== null ? `client ${client}` : actor.lastClient !== null ? `session, last client ${actor.lastClient}` : 'session';
    }
    case 'subscription':
      return `subscription ${keyText(actor.context?.key ?? actor.name.replace(/^subscription:/, ''))}`;
    case null: {
      // A helper an actor invoked (a promise, a callback): named with its owner.
      const parent = actors.get(actor.parent);
      return parent === undefined ? actor.name : `${actor.name} of ${displayName(parent)}`;
    }
    default:
      return actor.name;
  }
}

const isEnded = (actor) => actor.status !== undefined && actor.status !== 'active';

function svgFor(machine) {
  if (!svgs.has(machine)) svgs.set(machine, mermaid.render(`m${renders++}`, diagrams[machine]).then((r) => r.svg));
  return svgs.get(machine);
}

function machineView(machine) {
  let view = machines.get(machine);
  if (view !== undefined) return view;
  document.getElementById('waiting')?.remove();
  const article = document.createElement('article');
  article.className = 'machine';
  article.dataset.machine = machine;
  const title = document.createElement('h3');
  title.textContent = machine;
  const list = document.createElement('ul');
  list.className = 'instances';
  const diagram = document.createElement('div');
  diagram.className = 'diagram';
  article.append(title, list, diagram);
  document.getElementById('machines').append(article);
  view = { article, list, diagram, drawn: false };
  machines.set(machine, view);
  svgFor(machine).then(
    (svg) => {
      diagram.innerHTML = svg;
      // Drawn at DIAGRAM_SCALE (Mermaid's 16 px text at 12 px); a drawing wider than a column of
      // the grid then takes the whole row, so that it is never shrunk past reading.
      const svgElement = diagram.querySelector('svg');
      const width = (svgElement?.viewBox?.baseVal?.width ?? 0) * DIAGRAM_SCALE;
      if (svgElement && width > 0) svgElement.style.width = `${width}px`;
      article.classList.toggle('wide', width > article.clientWidth);
      view.drawn = true;
      // Highlighted in the same task as it is put in, so a drawing is never shown without its states.
      render();
    },
    (error) => {
      diagram.textContent = `cannot draw ${machine}: ${error.message}`;
    },
  );
  return view;
}

function stateElement(actor, reason) {
  const state = document.createElement('span');
  state.className = 'state';
  const b = document.createElement('b');
  b.textContent = describeValue(actor.value);
  state.append(b);
  if (isEnded(actor)) state.append(` (${reason ?? actor.status})`);
  return state;
}

function subscriptionRow(sub) {
  const row = document.createElement('li');
  row.className = 'subscription';
  const key = keyText(sub.context?.key ?? sub.name.replace(/^subscription:/, ''));
  const ended = isEnded(sub);
  const reason = sub.context?.reason ?? sub.status;
  row.dataset.key = key;
  row.dataset.state = describeValue(sub.value);
  row.dataset.ended = ended ? reason : '';
  row.classList.toggle('ended', ended);
  const name = document.createElement('span');
  name.className = 'key';
  name.textContent = key;
  row.append(name, ' ', stateElement(sub, reason));
  return row;
}

function instanceRow(actor, run) {
  const row = document.createElement('li');
  row.className = 'instance';
  row.dataset.name = displayName(actor);
  row.dataset.state = describeValue(actor.value);
  if (run !== undefined) row.dataset.run = String(run.label);
  const ended = isEnded(actor) || (run !== undefined && !run.live);
  row.classList.toggle('ended', ended);
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = displayName(actor);
  row.append(name, ' ', stateElement(actor));
  const subs = [...actors.values()].filter((sub) => sub.machine === 'subscription' && sub.parent === actor.key).sort((a, b) => a.order - b.order);
  if (subs.length > 0) {
    const list = document.createElement('ul');
    list.className = 'subscriptions';
    list.append(...subs.map(subscriptionRow));
    row.append(list);
  }
  return row;
}

/** A session with no client and nothing to show: folded into one line with the others like it. */
function folds(actor) {
  return actor.machine === 'session' && clientOf(actor.context) === null && ![...actors.values()].some((sub) => sub.parent === actor.key && sub.machine === 'subscription');
}

function render() {
  scheduled = false;
  const byMachine = new Map();
  for (const actor of actors.values()) {
    if (actor.machine === null || NOT_DRAWN.has(actor.machine) || !(actor.machine in diagrams)) continue;
    if (!byMachine.has(actor.machine)) byMachine.set(actor.machine, []);
    byMachine.get(actor.machine).push(actor);
  }
  for (const [machine, view] of machines) {
    if (byMachine.has(machine)) continue;
    view.article.remove();
    machines.delete(machine);
  }
  for (const [machine, list] of byMachine) {
    const view = machineView(machine);
    list.sort((a, b) => a.order - b.order);
    const rows = [];
    const folded = new Map(); // state -> count
    for (const actor of list) {
      if (folds(actor)) {
        const state = describeValue(actor.value);
        folded.set(state, (folded.get(state) ?? 0) + 1);
      } else {
        rows.push(instanceRow(actor, runs.get(actor.run)));
      }
    }
    for (const [state, count] of folded) {
      const row = document.createElement('li');
      row.className = 'folded';
      row.dataset.count = String(count);
      row.dataset.state = state;
      row.textContent = `${count} ${count === 1 ? 'session' : 'sessions'} with no client: `;
      const b = document.createElement('b');
      b.textContent = state;
      row.append(b);
      rows.push(row);
    }
    view.list.replaceChildren(...rows);
    // The states of the live actors (of all of them once none is live), in one drawing.
    const live = list.filter((actor) => !isEnded(actor) && runs.get(actor.run)?.live !== false);
    const wanted = new Set((live.length > 0 ? live : list).flatMap((actor) => stateIds(actor.value)));
    if (!view.drawn) continue;
    for (const element of view.diagram.querySelectorAll('[id]')) {
      const match = /-state-(s_[A-Za-z0-9_]+?)-\d+$/.exec(element.id);
      const sid = match ? match[1] : element.id;
      element.classList.toggle('kvs-active', wanted.has(sid) && (match !== null || element.classList.contains('cluster')));
    }
  }
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(render);
}

function addActor(message) {
  const key = actorKey(message);
  let machine = null;
  try {
    machine = JSON.parse(message.definition).id ?? null;
  } catch {
    machine = null;
  }
  if (machine !== null && !(machine in diagrams)) machine = null;
  const known = actors.get(key);
  if (known !== undefined && known.name === message.name) return;
  const snapshot = message.snapshot ?? {};
  const actor = {
    key,
    run: message.kvsRun ?? '',
    name: message.name,
    machine,
    parent: message.parentId === undefined ? undefined : actorKey(message, message.parentId),
    value: snapshot.value,
    status: snapshot.status,
    context: snapshot.context,
    lastClient: clientOf(snapshot.context),
    order: order++,
  };
  actors.set(key, actor);
  if (machine === 'subscription') dropOldSubscriptions(actor.parent);
  schedule();
}

function dropOldSubscriptions(session) {
  const ended = [...actors.values()].filter((sub) => sub.machine === 'subscription' && sub.parent === session && isEnded(sub)).sort((a, b) => a.order - b.order);
  for (const old of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_SUBSCRIPTIONS))) actors.delete(old.key);
}

function updateActor(message) {
  const actor = actors.get(actorKey(message));
  const snapshot = message.snapshot;
  if (actor === undefined || !snapshot) return;
  // A snapshot without a value keeps the last value known (only its status is news).
  if (snapshot.value !== undefined) actor.value = snapshot.value;
  actor.status = snapshot.status;
  if (snapshot.context !== undefined) actor.context = snapshot.context;
  actor.lastClient = clientOf(actor.context) ?? actor.lastClient;
  if (actor.machine === 'subscription' && isEnded(actor)) dropOldSubscriptions(actor.parent);
  schedule();
}

/** An event's fields other than its type, in a few words: `key=a`, `jobPath=/x/a.job`. */
function details(event) {
  const words = [];
  const say = (value) => {
    if (typeof value === 'string') return value.startsWith('[function') ? null : keyText(value);
    if (value === null || typeof value !== 'object') return String(value);
    const inner = Object.entries(value).map(([k, v]) => [k, say(v)]).filter(([, v]) => v !== null);
    return Array.isArray(value) ? `[${inner.map(([, v]) => v).join(', ')}]` : `{${inner.map(([k, v]) => `${k}: ${v}`).join(', ')}}`;
  };
  for (const [name, value] of Object.entries(event ?? {})) {
    if (name === 'type') continue;
    const text = say(value);
    if (text !== null) words.push(`${name}=${text}`);
  }
  return words.length === 0 ? '' : ` ${words.join(' ')}`;
}

function timeOf(ms) {
  return new Date(ms).toISOString().slice(11, 23);
}

/** Puts a line among the events by its time, newest first, and keeps at most MAX_EVENTS of its kind. */
function addToEvents(li, at) {
  const list = document.getElementById('events');
  li.dataset.at = String(at);
  const later = [...list.children].find((other) => Number(other.dataset.at) <= at);
  list.insertBefore(li, later ?? null);
  const kind = li.classList.contains('internal') ? '.internal' : ':not(.internal)';
  const same = list.querySelectorAll(`li${kind}`);
  for (let i = MAX_EVENTS; i < same.length; i++) same[i].remove();
}

function logEvent(message) {
  const type = message.event?.type ?? '?';
  const at = Number(message.createdAt) || Date.now();
  const li = document.createElement('li');
  if (type.startsWith('xstate.')) li.className = 'internal';
  li.textContent = `${timeOf(at)} ${displayName(actors.get(actorKey(message)))} ← ${type}${details(message.event)}`;
  addToEvents(li, at);
}

function logRun(run, fact, at) {
  const li = document.createElement('li');
  li.className = 'run';
  li.textContent = `${timeOf(at)} run ${run.label} (${run.from}) ${fact}`;
  addToEvents(li, at);
}

/** Takes the actors of every run that ended off the page. */
function clearEndedRuns() {
  const ended = new Set([...runs].filter(([, run]) => !run.live).map(([id]) => id));
  // Actors from a relay without runs ('') belong to no run that could still be live.
  ended.add('');
  for (const [key, actor] of actors) if (ended.has(actor.run)) actors.delete(key);
  for (const id of ended) {
    runs.delete(id);
    cleared.add(id);
  }
  schedule();
}

function runNotice(message) {
  if (cleared.has(message.run)) return;
  let run = runs.get(message.run);
  if (message.live && run === undefined) clearEndedRuns();
  if (run === undefined) {
    run = { label: message.label, from: message.from, live: true, startedLogged: false, endedLogged: false };
    runs.set(message.run, run);
  }
  run.live = message.live === true;
  // One line when a run started and one when it ended, each at its time; not again on a reconnect.
  if (!run.startedLogged) {
    run.startedLogged = true;
    logRun(run, 'started', Number(message.startedAt) || Date.now());
  }
  if (!run.live && !run.endedLogged) {
    run.endedLogged = true;
    logRun(run, 'ended', Number(message.endedAt) || Date.now());
  }
  schedule();
}

const plural = (n, one, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** The data's figures in the header: keys, commands/s, backups in progress. */
function showFigures(message) {
  const figures = document.getElementById('figures');
  const rate = Math.round(Number(message.commandsPerSecond) || 0);
  const waiting = Number(message.backupsWaiting) > 0 ? ` (${message.backupsWaiting} waiting)` : '';
  figures.dataset.keys = String(message.keys);
  figures.dataset.commandsPerSecond = String(rate);
  figures.dataset.backups = String(message.backupsRunning);
  figures.textContent = `${plural(Number(message.keys), 'key')} · ${rate.toLocaleString('en')} commands/s · ${plural(Number(message.backupsRunning), 'backup')} in progress${waiting}`;
}

function receive(message) {
  if (message.type === '@kvs.run') return runNotice(message);
  if (message.kvsRun !== undefined && cleared.has(message.kvsRun)) return;
  if (message.type === '@kvs.figures') showFigures(message);
  else if (message.type === '@xstate.actor') addActor(message);
  else if (message.type === '@xstate.event') logEvent(message);
  else if (message.type === '@xstate.snapshot') updateActor(message);
}

function connect() {
  const status = document.getElementById('status');
  const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/live');
  socket.onopen = () => {
    // The relay (perhaps a new one) tells which runs are live right after this.
    for (const run of runs.values()) run.live = false;
    status.textContent = 'connected to the relay';
    status.className = 'status open';
  };
  socket.onmessage = (event) => {
    try {
      receive(JSON.parse(event.data));
    } catch (error) {
      console.error('live view: a message it could not read', error);
    }
  };
  socket.onclose = () => {
    status.textContent = 'the relay went away; retrying...';
    status.className = 'status closed';
    setTimeout(connect, 2000);
  };
}

document.getElementById('internals').addEventListener('change', (event) => {
  document.getElementById('events').classList.toggle('show-internals', event.target.checked);
});

fetch('/machines.json')
  .then((response) => response.json())
  .then((loaded) => {
    diagrams = loaded;
    connect();
  });
