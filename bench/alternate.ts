/**
 * Alternated runs of a few commands, for measuring one change against another on a shared host:
 * each round runs every command once (in turn, the order reversed every other round, so a change
 * in the machine's load falls on all of them alike), and the medians come with their ratios to the
 * first command's. A command is a shell word list; `NAME=VALUE` words before it set its
 * environment.
 *
 *   node dist/bench/alternate.js ROUNDS 'floor=node dist/bench/pool-floor.js' \
 *     'one=node runtime/main.js /tmp/one 2 4 --quiet' 'one-no-cache=NODE_DISABLE_COMPILE_CACHE=1 node runtime/main.js /tmp/one 2 4 --quiet'
 */
import { measure, median, type Run } from './measure.js';

const [roundsArg, ...specs] = process.argv.slice(2);
const rounds = Number(roundsArg);
if (!Number.isInteger(rounds) || rounds < 1 || specs.length === 0) {
  console.error("usage: node dist/bench/alternate.js ROUNDS 'name=command ...' ...");
  process.exit(2);
}
const commands = specs.map((spec) => {
  const at = spec.indexOf('=');
  const words = spec.slice(at + 1).trim().split(/\s+/);
  const env: NodeJS.ProcessEnv = { ...process.env };
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  return { name: spec.slice(0, at), words, env, runs: [] as Run[] };
});
for (let r = 0; r < rounds; r++) {
  for (const command of r % 2 === 0 ? commands : [...commands].reverse()) command.runs.push(await measure(command.words, command.env));
}
const first = commands[0]!;
const wall = (c: typeof first) => median(c.runs.map((run) => run.seconds));
const cpu = (c: typeof first) => median(c.runs.map((run) => run.cpu));
console.log(`median of ${rounds} alternated runs; ratios to ${first.name}`);
for (const c of commands) {
  console.log(
    `  ${c.name.padEnd(28)} wall ${(wall(c) * 1000).toFixed(0).padStart(6)} ms (${(wall(c) / wall(first)).toFixed(2)}x)  CPU ${(cpu(c) * 1000).toFixed(0).padStart(6)} ms (${(cpu(c) / cpu(first)).toFixed(2)}x)`,
  );
}
