/**
 * A stand-in client for the terminal test of runtime/client/console.ts: prints a notification
 * every 150 ms (five in all) while lines are typed, echoes each line typed, ends at end of input.
 */
import { openConsole } from '../../runtime/client/console.js';

const console = openConsole({ input: process.stdin, output: process.stdout, onInterrupt: () => process.exit(130) });
let sent = 0;
const timer = setInterval(() => {
  console.print(`(key,value${++sent})\n`);
  if (sent === 5) clearInterval(timer);
}, 150);
for await (const line of console.lines) console.print(`got ${line}\n`);
clearInterval(timer);
console.print('bye\n');
