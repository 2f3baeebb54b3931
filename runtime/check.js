// The entry of `node runtime/check.js`, the differential checker: the compiled code lives in dist/.
try {
  const { checkMain } = await import('../dist/runtime/check/check-main.js');
  process.exitCode = await checkMain(process.argv.slice(2));
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/runtime/check/')) {
    process.stderr.write('check: the program is not built yet: run `npm ci` (or `npm run build`) in the project folder first\n');
    process.exitCode = 1;
  } else {
    throw error;
  }
}
