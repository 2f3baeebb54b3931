// The entry of `node runtime/main.js`. Listening for SIGUSR1 must come first, before anything is
// imported: with a listener, the signal is ours (the host actor's) and Node never starts its
// debugger on it. The listener is never removed.
process.on('SIGUSR1', () => {});

// The store's young generation holds each batch's decoded strings only briefly: V8's default lets
// it grow to 3 x 16 MiB, which buys no speed here and costs a third of the peak RSS.
const v8 = await import('node:v8');
v8.setFlagsFromString('--max-semi-space-size=8');

try {
  const { main } = await import('../dist/runtime/main.js');
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/runtime/main.js')) {
    process.stderr.write('kvs: the program is not built yet: run `npm ci` (or `npm run build`) in the project folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
