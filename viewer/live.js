// The live view: listens to the relay, keeps one card per actor that runs a known machine,
// draws the machine once with Mermaid (served from node_modules) and highlights the current state.
/* global mermaid */
'use strict';

const MAX_EVENTS = 60;
/** Ended subscriptions kept in a session's card, the oldest dropped first. */
const MAX_ENDED_SUBSCRIPTIONS = 20;
const actors = new Map(); // sessionId -> { name, machine, card, value, status }
const subscriptions = new Map(); // sessionId -> { row, value, status, context }
const svgs = new Map(); // machine id -> Promise<svg text>
const names = new Map(); // sessionId -> name, for every actor, with a machine or not
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

function describeValue(value) {
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
  const sub = { row, value: message.snapshot?.value, status: message.snapshot?.status, context: message.snapshot?.context };
  subscriptions.set(message.sessionId, sub);
  showSubscription(sub);
  const ended = [...list.querySelectorAll('.subscription.ended')];
  for (const old of ended.slice(0, Math.max(0, ended.length - MAX_ENDED_SUBSCRIPTIONS))) old.remove();
}

function addActor(message) {
  names.set(message.sessionId, message.name);
  let machine = null;
  try {
    machine = JSON.parse(message.definition).id;
  } catch {
    machine = null;
  }
  const parent = actors.get(message.parentId);
  if (machine === 'subscription' && parent !== undefined && !subscriptions.has(message.sessionId)) {
    addSubscription(message, parent);
    return;
  }
  if (!machine || !(machine in diagrams) || actors.has(message.sessionId)) return;
  document.getElementById('waiting')?.remove();
  const card = document.createElement('article');
  card.className = 'actor';
  card.dataset.name = message.name;
  card.dataset.sessionId = message.sessionId;
  const title = document.createElement('h3');
  title.textContent = message.name;
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = `machine ${machine} · ${message.sessionId}`;
  const state = document.createElement('div');
  state.className = 'state';
  const diagram = document.createElement('div');
  diagram.className = 'diagram';
  const subs = document.createElement('ul');
  subs.className = 'subscriptions';
  card.append(title, meta, state, subs, diagram);
  document.getElementById('actors').append(card);
  const actor = { name: message.name, machine, card, value: message.snapshot?.value, status: message.snapshot?.status };
  actors.set(message.sessionId, actor);
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
  li.textContent = `${at} ${names.get(message.sessionId) ?? message.sessionId} ← ${message.event?.type ?? '?'}`;
  const list = document.getElementById('events');
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function receive(message) {
  if (message.type === '@xstate.actor') addActor(message);
  else if (message.type === '@xstate.event') logEvent(message);
  else if (message.type === '@xstate.snapshot') {
    const actor = actors.get(message.sessionId);
    if (actor && message.snapshot) {
      actor.value = message.snapshot.value;
      actor.status = message.snapshot.status;
      highlight(actor);
    }
    const sub = subscriptions.get(message.sessionId);
    if (sub && message.snapshot) {
      sub.value = message.snapshot.value;
      sub.status = message.snapshot.status;
      sub.context = message.snapshot.context;
      showSubscription(sub);
    }
  }
}

function connect() {
  const status = document.getElementById('status');
  const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host);
  socket.onopen = () => {
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
