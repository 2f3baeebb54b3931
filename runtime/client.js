#!/usr/bin/env node
// The entry of `node runtime/client.js`: the compiled client lives in dist/.
try {
  // The compile cache (runtime/cli/compile-cache.ts) first, so that every module after it uses it;
  // then the client: from the bundle while it is current, else as tsc compiled it
  // (runtime/cli/program-files.ts).
  const { enableCompileCache } = await import('../dist/runtime/cli/compile-cache.js');
  enableCompileCache();
  const { programFile } = await import('../dist/runtime/cli/program-files.js');
  const { runClient } = await import(programFile('client'));
  await runClient(process.argv.slice(2));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(runtime\/cli\/(compile-cache|program-files)|runtime\/client\/client|bundle\/runtime\/client)\.js'/.test(String(error.message))) {
    process.stderr.write('kvs-client: the program is not built yet: run `npm ci` (or `npm run build`) in the project folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
