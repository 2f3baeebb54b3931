#!/usr/bin/env node
// The entry of `node runtime/main.js`. Listening for SIGUSR1 must come first, before anything is
// imported: with a listener, the signal is ours (the host actor's) and Node never starts its
// debugger on it. The listener is never removed.
process.on('SIGUSR1', () => {});

try {
  // The heap settings (runtime/cli/heap.ts) come before the program is loaded.
  const { tuneHeap } = await import('../dist/runtime/cli/heap.js');
  tuneHeap();
  const { main } = await import('../dist/runtime/main.js');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && /dist\/runtime\/(cli\/heap|main)\.js/.test(String(error.message))) {
    process.stderr.write('kvs: the program is not built yet: run `npm ci` (or `npm run build`) in the project folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
