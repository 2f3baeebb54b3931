/**
 * `npm run inspect [-- --port N --host H --open]`: the relay between a program run with
 * `--inspect` and the browsers that watch it. Every message a program sends is passed to every
 * other connection (the protocol of `@statelyai/inspect`'s relay), so the Stately inspector and the
 * local live view get the same stream. Over HTTP it serves:
 *   /          the live view (viewer/): every live actor with its machine drawn by Mermaid and its
 *              state highlighted, and the last events; from local files only, no network
 *   /stately   the page that frames the Stately inspector from stately.ai (needs the internet)
 * It prints one line when a program connects and when it goes, with the events it relayed.
 *
 * Each program connection is a run. Two runs number their actors alike (every process starts at
 * `x:0`), so the live view, which connects on LIVE_PATH, gets each message tagged with its run
 * (`"kvsRun"`) and told when a run starts and ends (`@kvs.run`); others get the stream untouched.
 *
 * It is for this machine's user, not for any web page a browser here has open: a WebSocket is
 * accepted only without an Origin (a program) or from the relay's own pages; any other origin gets
 * 403 (a page elsewhere would read job paths and keys, and could inject events). A message is at
 * most MAX_MESSAGE_BYTES, and what is kept for late browsers is bounded in bytes as in count.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exec } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { drawMachine, findMachines } from './diagrams.js';
import { MAX_BUFFERED_BYTES, MAX_KEPT_ACTORS, MAX_KEPT_OTHERS, MAX_MESSAGE_BYTES } from './relay-limits.js';

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
/** The WebSocket path of the live view, which gets messages tagged with their run. */
const LIVE_PATH = '/live';

const USAGE = `usage: npm run inspect [-- --port N] [-- --host ADDRESS] [-- --open]

Relays the inspection messages of a program run with --inspect to the browsers watching it.
  --port N        the port for WebSocket and HTTP (default ${DEFAULT_PORT})
  --host ADDRESS  the address to listen on (default ${DEFAULT_HOST}, this machine only;
                  0.0.0.0 listens on every interface)
  --open          open the live view in a browser
  --help          this text

Open http://<host>:<port>/ for the live view (works offline),
or http://<host>:<port>/stately for the Stately inspector (loads from stately.ai).
`;

const ROOT = new URL('../../', import.meta.url);
const FILES: Record<string, { path: URL; type: string }> = {
  '/': { path: new URL('viewer/index.html', ROOT), type: 'text/html; charset=utf-8' },
  '/live.js': { path: new URL('viewer/live.js', ROOT), type: 'text/javascript; charset=utf-8' },
  '/live.css': { path: new URL('viewer/live.css', ROOT), type: 'text/css; charset=utf-8' },
  '/mermaid.min.js': { path: new URL('node_modules/mermaid/dist/mermaid.min.js', ROOT), type: 'text/javascript; charset=utf-8' },
};

/** A program's connection. Its id is unique beyond this relay's life (a page outlives a relay). */
interface Run {
  readonly id: string;
  /** 1, 2, ... in this relay's life: what the page shows. */
  readonly label: number;
  readonly from: string;
  live: boolean;
  /** When it started and ended (ms since the epoch), so the page can place the two lines among the events. */
  readonly startedAt: number;
  endedAt: number | null;
}

interface Kept {
  readonly run: Run;
  readonly text: string;
}

/** Messages kept for late browsers, oldest first: at most `count` of them and `bytes` in all. */
class KeptMessages {
  readonly items: Kept[] = [];
  private bytes = 0;

  constructor(private readonly limit: { readonly count: number; readonly bytes: number }) {}

  push(kept: Kept): void {
    this.items.push(kept);
    this.bytes += Buffer.byteLength(kept.text);
    while (this.items.length > this.limit.count || this.bytes > this.limit.bytes) {
      this.bytes -= Buffer.byteLength(this.items.shift()!.text);
    }
  }

  /** Keeps only the messages that `keep` says. */
  retain(keep: (kept: Kept) => boolean): void {
    const current = this.items.filter(keep);
    this.items.splice(0, this.items.length, ...current);
    this.bytes = current.reduce((sum, kept) => sum + Buffer.byteLength(kept.text), 0);
  }
}

/**
 * The origins of the relay's own pages: `http://` with this machine's names and addresses (those
 * it listens on) and `port`. A page served from anywhere else is not the relay's, whatever Host
 * it sent (a DNS name made to point here says its own name in its Origin).
 */
function ownOrigins(host: string, port: number): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', hostname()]);
  const everywhere = host === '0.0.0.0' || host === '::';
  if (!everywhere) names.add(hostInUrl(host));
  else for (const address of Object.values(networkInterfaces()).flat()) if (address !== undefined) names.add(hostInUrl(address.address));
  return new Set([...names].map((name) => `http://${name.toLowerCase()}:${port}`));
}

/** Whether a WebSocket with this Origin header may connect: none (a program), or one of `own`. */
function acceptsOrigin(origin: string | undefined, own: ReadonlySet<string>): boolean {
  return origin === undefined || own.has(origin.toLowerCase());
}

/** A message of a run as the live view gets it: the run's id added as the object's first field. */
function tagWithRun(text: string, runId: string): string {
  // A JSON object with at least one field; anything else (which the page cannot read) goes as is.
  return /^\{\s*"/.test(text) ? `{"kvsRun":${JSON.stringify(runId)},${text.slice(1)}` : text;
}

/** A message of the program's own for the live view (the data's figures), not the inspector's: not for Stately's. */
function isOurs(text: string): boolean {
  return text.startsWith('{"type":"@kvs.');
}

/** The live view's notice that a run started (live) or ended. */
function runNotice(run: Run): string {
  return JSON.stringify({ type: '@kvs.run', run: run.id, label: run.label, from: run.from, live: run.live, startedAt: run.startedAt, endedAt: run.endedAt });
}

function statelyPage(): string {
  // The package's bridge page: it frames the inspector and passes it what arrives here.
  return `<!doctype html>
<html><head><title>Stately inspector</title>
<style>*{margin:0;padding:0}html,body{height:100%}iframe{width:100%;height:100%;border:none}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
const iframe = document.getElementById('inspector');
const buffer = [];
let connected = false;
window.addEventListener('message', (e) => {
  if (e.data && e.data.type === '@statelyai.connected') {
    connected = true;
    for (const event of buffer) iframe.contentWindow.postMessage(event, '*');
    buffer.length = 0;
  }
});
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host);
ws.onmessage = (event) => {
  const data = JSON.parse(event.data);
  if (connected) iframe.contentWindow.postMessage(data, '*');
  else buffer.push(data);
};
</script></body></html>`;
}

interface Options {
  readonly port: number;
  readonly host: string;
  readonly open: boolean;
}

/** The options, or the text to print and the exit code. */
export function parseOptions(args: readonly string[]): Options | { readonly exit: number; readonly text: string } {
  let values: { port?: string | undefined; host?: string | undefined; open?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { port: { type: 'string' }, host: { type: 'string' }, open: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { exit: 2, text: `inspect: ${reason}\n${USAGE}` };
  }
  if (values.help === true) return { exit: 0, text: USAGE };
  const port = Number(values.port ?? DEFAULT_PORT);
  if (!/^\d+$/.test(values.port ?? String(DEFAULT_PORT)) || port < 1 || port > 65_535) {
    return { exit: 2, text: `inspect: --port must be a port number (1-65535), not '${values.port}'\n${USAGE}` };
  }
  const host = values.host ?? DEFAULT_HOST;
  if (host === '') return { exit: 2, text: `inspect: --host must name an address\n${USAGE}` };
  return { port, host, open: values.open === true };
}

/** `ws://127.0.0.1:8080` for a URL; an IPv6 address in brackets. */
function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if ('exit' in parsed) {
    (parsed.exit === 0 ? process.stdout : process.stderr).write(parsed.text);
    return parsed.exit;
  }
  const { port, host } = parsed;
  // Drawn on the first request for them, so the relay listens at once (loading the actors takes a while).
  let diagramsJson: Promise<string> | null = null;
  const drawAll = async () => {
    const diagrams: Record<string, string> = {};
    for (const { machine } of await findMachines()) diagrams[machine.id] = drawMachine(machine);
    return JSON.stringify(diagrams);
  };

  const serve = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://relay').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405).end();
      return;
    }
    if (path === '/machines.json') {
      diagramsJson ??= drawAll();
      response.writeHead(200, { 'content-type': 'application/json' }).end(await diagramsJson);
      return;
    }
    if (path === '/favicon.ico') {
      // Browsers ask for it on their own; an empty answer keeps a 404 out of their console.
      response.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
      return;
    }
    if (path === '/stately') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(statelyPage());
      return;
    }
    const file = FILES[path];
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${path} here; the live view is at /\n`);
      return;
    }
    try {
      response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' }).end(await readFile(file.path));
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot read ${file.path.pathname}: ${(error as NodeJS.ErrnoException).code ?? error}\n`);
    }
  };
  const http = createServer((request, response) => void serve(request, response));
  const origins = ownOrigins(host, port);
  const sockets = new WebSocketServer({
    server: http,
    maxPayload: MAX_MESSAGE_BYTES,
    verifyClient: ({ origin }: { origin: string | undefined }, accept: (ok: boolean, code?: number, message?: string) => void) => {
      if (acceptsOrigin(origin, origins)) accept(true);
      else accept(false, 403, 'this relay takes connections from programs and its own pages only');
    },
  });
  // ws passes the HTTP server's errors on as its own; a failed listen is reported below (one
  // line, exit 1), and with no listener here it would end the relay with a stack trace instead.
  let listened = false;
  sockets.on('error', (error) => {
    if (listened) process.stderr.write(`inspect: ${error.message}\n`);
  });
  // Kept for a browser that opens late: the messages of the live runs and, until a new run starts,
  // of the runs that ended (their final state is worth seeing; an older run's is not).
  const keptActors = new KeptMessages(MAX_KEPT_ACTORS);
  const keptOthers = new KeptMessages(MAX_KEPT_OTHERS);
  const allKept = () => [...keptActors.items, ...keptOthers.items];
  const relayId = randomUUID().slice(0, 8);
  let runs = 0;
  const liveRuns = new Set<Run>();
  const liveViews = new WeakSet<WebSocket>();
  const isLive = (client: WebSocket) => liveViews.has(client);

  /** Sends `raw` to every other connection, `tagged()` (made once) to live views; null: only them. */
  const broadcast = (from: WebSocket | null, raw: string | null, tagged: () => string) => {
    let forLive: string | null = null;
    for (const client of sockets.clients) {
      if (client === from || client.readyState !== WebSocket.OPEN || (raw === null && !isLive(client))) continue;
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) client.terminate();
      else client.send(isLive(client) ? (forLive ??= tagged()) : (raw as string));
    }
  };
  const startRun = (from: string): Run => {
    for (const kept of [keptActors, keptOthers]) kept.retain((message) => message.run.live);
    const run: Run = { id: `${relayId}-${++runs}`, label: runs, from, live: true, startedAt: Date.now(), endedAt: null };
    liveRuns.add(run);
    process.stdout.write(`inspect: a program connected from ${from}\n`);
    broadcast(null, null, () => runNotice(run));
    return run;
  };

  sockets.on('connection', (socket, request) => {
    const from = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    const live = new URL(request.url ?? '/', 'http://relay').pathname === LIVE_PATH;
    if (live) {
      liveViews.add(socket);
      const known = new Set(allKept().map((message) => message.run).concat([...liveRuns]));
      for (const run of known) socket.send(runNotice(run));
    }
    for (const { run, text } of allKept()) {
      if (live) socket.send(tagWithRun(text, run.id));
      else if (!isOurs(text)) socket.send(text);
    }
    // A program is a connection that sends; a browser only listens.
    let run: Run | null = null;
    let relayed = 0;
    socket.on('message', (data) => {
      const message = data.toString();
      relayed++;
      run ??= startRun(from);
      const thisRun = run;
      (message.includes('"type":"@xstate.actor"') ? keptActors : keptOthers).push({ run, text: message });
      broadcast(socket, isOurs(message) ? null : message, () => tagWithRun(message, thisRun.id));
    });
    socket.on('error', () => socket.terminate());
    socket.on('close', () => {
      if (run === null) return;
      run.live = false;
      run.endedAt = Date.now();
      liveRuns.delete(run);
      broadcast(null, null, () => runNotice(run!));
      process.stdout.write(`inspect: the program from ${from} disconnected after ${relayed} events relayed\n`);
    });
  });

  const listening = await new Promise<Error | null>((resolve) => {
    http.once('error', resolve);
    http.listen(port, host, () => resolve(null));
  });
  if (listening !== null) {
    const code = (listening as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? `port ${port} is in use; try: npm run inspect -- --port ${port + 1}` : `cannot listen on ${host}:${port}: ${code ?? listening.message}`;
    process.stderr.write(`inspect: ${reason}\n`);
    return 1;
  }
  listened = true;
  const shown = host === '127.0.0.1' ? 'localhost' : hostInUrl(host);
  const flag = port === DEFAULT_PORT && shown === 'localhost' ? '--inspect' : `--inspect=ws://${shown}:${port}`;
  process.stdout.write(
    `Inspector relay listening on ws://${shown}:${port} (${host === '0.0.0.0' || host === '::' ? 'every interface' : `${host} only`})\n` +
      `Live view (offline): http://${shown}:${port}/   Stately inspector (online): http://${shown}:${port}/stately\n` +
      `Then run for example:\n` +
      `  node runtime/main.js jobs 2 4 ${flag}\n` +
      `Ctrl-C stops the relay.\n`,
  );
  if (parsed.open) exec(`xdg-open http://${shown}:${port}/`).on('error', () => undefined);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  http.closeAllConnections();
  http.close();
  if (liveRuns.size > 0) process.stdout.write(`inspect: stopped with ${liveRuns.size} program(s) still connected\n`);
  return 0;
}

process.exitCode = await main();
