#!/usr/bin/env node
// The entry of `node runtime/client.js`: the compiled client lives in dist/.
try {
  const { runClient } = await import('../dist/runtime/client/client.js');
  await runClient(process.argv.slice(2));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/runtime/client/client.js')) {
    process.stderr.write('kvs-client: the program is not built yet: run `npm ci` (or `npm run build`) in the project folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
