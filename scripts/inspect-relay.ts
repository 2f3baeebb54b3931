/**
 * `npm run inspect [-- --port N] [-- --open]`: starts the local relay of `@statelyai/inspect`,
 * which passes the program's inspection messages (`--inspect`) to the Stately inspector open in
 * a browser, and prints the address to open. Runs until Ctrl-C.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { createInspectorServer } from '@statelyai/inspect/server';
import WebSocket from 'ws';

const DEFAULT_PORT = 8080;

/** The package's relay reports no listen error: check the port first, for a clear message. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/** The relay gives no sign of readiness: it is ready once it takes a WebSocket connection. */
async function waitUntilListening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const opened = await new Promise<boolean>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}`);
      socket.once('open', () => {
        socket.close();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (opened) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the relay did not start listening on port ${port}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, open: { type: 'boolean' } } });
  const port = Number(values.port ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    process.stderr.write(`inspect: --port must be a port number, not '${values.port}'\n`);
    return 2;
  }
  if (!(await portIsFree(port))) {
    process.stderr.write(`inspect: port ${port} is in use; try: npm run inspect -- --port ${port + 1}\n`);
    return 1;
  }
  const relay = createInspectorServer({ port, autoOpen: values.open === true });
  await waitUntilListening(port);
  const flag = port === DEFAULT_PORT ? '--inspect' : `--inspect=ws://localhost:${port}`;
  process.stdout.write(
    `Stately inspector relay listening on ws://localhost:${port}\n` +
      `Open http://localhost:${port} in a browser, then run for example:\n` +
      `  node runtime/main.js jobs 2 4 ${flag}\n` +
      `Ctrl-C stops the relay.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  relay.stop();
  // Open connections (a browser, a program being inspected) would hold the relay's server.
  process.exit(0);
}

process.exitCode = await main();
