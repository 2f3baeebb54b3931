/** `check.js server`: not built yet (see docs/check.md). */
import type { ServerCommandLine } from './command-line.js';

export async function checkServer(_commandLine: ServerCommandLine): Promise<number> {
  process.stderr.write('check: server mode is not built yet\n');
  return 2;
}
