// The live view: listens to the relay, keeps one card per actor that runs a known machine,
// draws the machine once with Mermaid (served from node_modules) and highlights the current state.
// Every program connection is a run, and every process numbers its actors from x:0: so actors are
// known by run and session id, and when a new run starts the cards of the runs that ended go.
/* global mermaid */
'use strict';

const MAX_EVENTS = 60;
/** Ended subscriptions kept in a session's card, the oldest dropped first. */
const MAX_ENDED_SUBSCRIPTIONS = 20;
const actors = new Map(); // run/sessionId -> { name, machine, card, value, status, run }
const subscriptions = new Map(); // run/sessionId -> { row, value, status, context, run }
const svgs = new Map(); // machine id -> Promise<svg text>
const names = new Map(); // run/sessionId -> name, for every actor, with a machine or not
const runs = new Map(); // run id -> { label, from, live }
const cleared = new Set(); // runs whose cards were taken off: their late messages are ignored
let diagrams = {};
let renders = 0;

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

function svgFor(machine) {
  if (!svgs.has(machine)) svgs.set(machine, mermaid.render(`m${renders++}`, diagrams[machine]).then((r) => r.svg));
  return svgs.get(machine);
}

function highlight(actor) {
  const wanted = new Set(stateIds(actor.value));
  const diagram = actor.card.querySelector('.diagram');
  for (const element of diagram.querySelectorAll('[id]')) {
    const match = /-state-(s_[A-Za-z0-9_]+?)-\d+$/.exec(element.id);
    const sid = match ? match[1] : element.id;
    const on = wanted.has(sid) && (match !== null || element.classList.contains('cluster'));
    element.classList.toggle('kvs-active', on);
  }
  const state = actor.card.querySelector('.state');
  state.innerHTML = '';
  state.append('state: ');
  const b = document.createElement('b');
  b.textContent = describeValue(actor.value);
  state.append(b);
  if (actor.status && actor.status !== 'active') state.append(` (${actor.status})`);
  actor.card.classList.toggle('ended', actor.status !== undefined && actor.status !== 'active');
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

// A subscription is a line in its session's card: its key, its state, and its end with the reason.
function showSubscription(sub) {
  const state = sub.row.querySelector('.state');
  state.innerHTML = '';
  const b = document.createElement('b');
  b.textContent = describeValue(sub.value);
  state.append(b);
  const ended = sub.status !== undefined && sub.status !== 'active';
  if (ended) state.append(` (${sub.context?.reason ?? sub.status})`);
  sub.row.classList.toggle('ended', ended);
  sub.row.dataset.state = describeValue(sub.value);
  sub.row.dataset.ended = ended ? (sub.context?.reason ?? sub.status) : '';
}

function addSubscription(message, parent) {
  const row = document.createElement('li');
  row.className = 'subscription';
  const key = message.snapshot?.context?.key ?? message.name.replace(/^subscription:/, '');
  row.dataset.key = keyText(key);
  const name = document.createElement('span');
  name.className = 'key';
  name.textContent = keyText(key);
  const state = document.createElement('span');
  state.className = 'state';
  row.append(name, ' ', state);
  const list = parent.card.querySelector('.subscriptions');
  list.append(row);
  const sub = { row, value: message.snapshot?.value, status: message.snapshot?.status, context: message.snapshot?.context, run: message.kvsRun ?? '' };
  subscriptions.set(actorKey(message), sub);
  showSubscription(sub);
  const ended = [...list.querySelectorAll('.subscription.ended')];
  for (const old of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_SUBSCRIPTIONS))) old.remove();
}

function addActor(message) {
  const key = actorKey(message);
  names.set(key, message.name);
  let machine = null;
  try {
    machine = JSON.parse(message.definition).id;
  } catch {
    machine = null;
  }
  const parent = message.parentId === undefined ? undefined : actors.get(actorKey(message, message.parentId));
  if (machine === 'subscription' && parent !== undefined && !subscriptions.has(key)) {
    addSubscription(message, parent);
    return;
  }
  if (!machine || !(machine in diagrams) || actors.has(key)) return;
  document.getElementById('waiting')?.remove();
  const card = document.createElement('article');
  card.className = 'actor';
  card.dataset.name = message.name;
  card.dataset.sessionId = message.sessionId;
  const run = runs.get(message.kvsRun);
  if (run !== undefined) card.dataset.run = String(run.label);
  const title = document.createElement('h3');
  title.textContent = message.name;
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = `${run === undefined ? '' : `run ${run.label} · `}machine ${machine} · ${message.sessionId}`;
  const state = document.createElement('div');
  state.className = 'state';
  const diagram = document.createElement('div');
  diagram.className = 'diagram';
  const subs = document.createElement('ul');
  subs.className = 'subscriptions';
  card.append(title, meta, state, subs, diagram);
  document.getElementById('actors').append(card);
  const actor = { name: message.name, machine, card, value: message.snapshot?.value, status: message.snapshot?.status, run: message.kvsRun ?? '' };
  actors.set(key, actor);
  highlight(actor);
  svgFor(machine).then(
    (svg) => {
      diagram.innerHTML = svg;
      highlight(actor);
    },
    (error) => {
      diagram.textContent = `cannot draw ${machine}: ${error.message}`;
    },
  );
}

function logEvent(message) {
  const li = document.createElement('li');
  const at = new Date(Number(message.createdAt) || Date.now()).toISOString().slice(11, 23);
  li.textContent = `${at} ${names.get(actorKey(message)) ?? message.sessionId} ← ${message.event?.type ?? '?'}`;
  addToEvents(li);
}

function addToEvents(li) {
  const list = document.getElementById('events');
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

/** Takes the cards (and their subscriptions and names) of every run that ended off the page. */
function clearEndedRuns() {
  const ended = new Set([...runs].filter(([, run]) => !run.live).map(([id]) => id));
  // Cards from a relay without runs ('') belong to no run that could still be live.
  ended.add('');
  for (const map of [actors, subscriptions]) {
    for (const [key, item] of map) {
      if (!ended.has(item.run)) continue;
      (item.card ?? item.row).remove();
      map.delete(key);
    }
  }
  // A key is run/sessionId; a run id has no '/' (a session id may: s2/x:0).
  for (const key of names.keys()) if (ended.has(key.slice(0, key.indexOf('/')))) names.delete(key);
  for (const id of ended) {
    runs.delete(id);
    cleared.add(id);
  }
}

function runNotice(message) {
  const known = runs.get(message.run);
  if (cleared.has(message.run)) return;
  if (message.live && known === undefined) clearEndedRuns();
  runs.set(message.run, { label: message.label, from: message.from, live: message.live === true });
  // A program killed leaves its actors' last states: its cards are greyed out with the run.
  if (!message.live) for (const actor of actors.values()) if (actor.run === message.run) actor.card.classList.add('ended');
  // A line when a run is first heard of and when it ends; not again on a reconnect to the relay.
  if (known !== undefined && !(known.live && !message.live)) return;
  const li = document.createElement('li');
  li.className = 'run';
  li.textContent = `run ${message.label} (${message.from}) ${message.live ? 'started' : 'ended'}`;
  addToEvents(li);
}

function receive(message) {
  if (message.type === '@kvs.run') return runNotice(message);
  if (message.kvsRun !== undefined && cleared.has(message.kvsRun)) return;
  if (message.type === '@xstate.actor') addActor(message);
  else if (message.type === '@xstate.event') logEvent(message);
  else if (message.type === '@xstate.snapshot') {
    const key = actorKey(message);
    const snapshot = message.snapshot;
    if (!snapshot) return;
    // A snapshot without a value keeps the last value known (only its status is news).
    const actor = actors.get(key);
    if (actor) {
      if (snapshot.value !== undefined) actor.value = snapshot.value;
      actor.status = snapshot.status;
      highlight(actor);
    }
    const sub = subscriptions.get(key);
    if (sub) {
      if (snapshot.value !== undefined) sub.value = snapshot.value;
      sub.status = snapshot.status;
      sub.context = snapshot.context;
      showSubscription(sub);
    }
  }
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

fetch('/machines.json')
  .then((response) => response.json())
  .then((loaded) => {
    diagrams = loaded;
    connect();
  });
