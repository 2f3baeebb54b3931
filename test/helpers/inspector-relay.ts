/**
 * The inspector's relay for tests: `npm run inspect`'s script (the package's relay) started as a
 * child process on a free loopback port, and a WebSocket receiver that collects every message the
 * relay passes on. `stop()` in `t.teardown` always ends both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import WebSocket from 'ws';
import { PROJECT_ROOT } from './program-run.js';

const RELAY_SCRIPT = join(PROJECT_ROOT, 'dist', 'scripts', 'inspect-relay.js');

export interface InspectorMessage {
  readonly type: string;
  readonly name?: string;
  readonly sessionId: string;
  readonly parentId?: string;
  readonly event?: { readonly type: string };
  readonly snapshot?: { readonly status?: string; readonly value?: unknown; readonly context?: unknown };
}

export interface TestRelay {
  readonly url: string;
  readonly messages: InspectorMessage[];
  /** Resolves once `check(messages)` holds, or rejects after `ms`. */
  waitFor(check: (messages: readonly InspectorMessage[]) => boolean, ms?: number): Promise<void>;
  /** Kills the relay at once, as a crash would. */
  kill(): void;
  stop(): Promise<void>;
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the relay did not start: ${seen}`)), ms);
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      seen += text;
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited with ${code}: ${seen}`));
    });
  });
}

export async function startRelay(t: ExecutionContext): Promise<TestRelay> {
  const port = await freePort();
  const child = spawn(process.execPath, [RELAY_SCRIPT, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let receiver: WebSocket | null = null;
  const stop = async () => {
    receiver?.terminate();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.teardown(stop);
  await waitForLine(child, /listening on ws:\/\/localhost:\d+/, 120_000);

  const url = `ws://127.0.0.1:${port}`;
  const messages: InspectorMessage[] = [];
  const socket = new WebSocket(url);
  receiver = socket;
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as InspectorMessage));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });

  return {
    url,
    messages,
    kill: () => child.kill('SIGKILL'),
    stop,
    waitFor(check, ms = 120_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          if (check(messages)) resolve();
          else if (Date.now() - started > ms) reject(new Error(`timed out; ${messages.length} messages so far`));
          else setTimeout(poll, 20);
        };
        poll();
      });
    },
  };
}
