// The entry of `node runtime/client.js`: the compiled client lives in dist/.
try {
  // The compile cache (runtime/cli/compile-cache.ts) first, so that every module after it uses it.
  const { enableCompileCache } = await import('../dist/runtime/cli/compile-cache.js');
  enableCompileCache();
  const { runClient } = await import('../dist/runtime/client/client.js');
  await runClient(process.argv.slice(2));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && /dist\/runtime\/(cli\/compile-cache|client\/client)\.js/.test(String(error.message))) {
    process.stderr.write('kvs-client: the program is not built yet: run `npm ci` (or `npm run build`) in the project folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
