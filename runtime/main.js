#!/usr/bin/env node
// The entry of `node runtime/main.js`. Listening for SIGUSR1 must come first, before anything is
// imported: with a listener, the signal is ours (the host actor's) and Node never starts its
// debugger on it. The listener is never removed.
process.on('SIGUSR1', () => {});

try {
  // The compile cache (runtime/cli/compile-cache.ts) first, so that every module after it uses it;
  // then the heap settings (runtime/cli/heap.ts), before the program is loaded: from the bundle
  // while it is current, else as tsc compiled it (runtime/cli/program-files.ts).
  const { enableCompileCache } = await import('../dist/runtime/cli/compile-cache.js');
  enableCompileCache();
  const { tuneHeap } = await import('../dist/runtime/cli/heap.js');
  tuneHeap();
  const { programFile } = await import('../dist/runtime/cli/program-files.js');
  const { main } = await import(programFile('main'));
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(runtime\/cli\/(compile-cache|heap|program-files)|runtime\/main|bundle\/runtime\/main)\.js'/.test(String(error.message))) {
    process.stderr.write('kvs: the program is not built yet: run `npm ci` (or `npm run build`) in the project folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
