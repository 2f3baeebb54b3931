/**
 * `npm run test:stress`: the whole ava suite twice while 4 busy processes load the machine, to show
 * the tests hold on a loaded machine. Prints `N passed, N failed` for each round (counted from
 * ava's TAP output) and exits 1 if any round failed. The burners are bounded in time (they end on
 * their own after --burn-minutes, default 30) and are killed when the rounds end, also on failure
 * or Ctrl-C. Not part of `npm test`. Options: --rounds N (default 2), --burners N (default 4).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`test-stress: --${name} needs a positive whole number, not '${process.argv[at + 1] ?? ''}'\n`);
    process.exit(2);
  }
  return value;
}

const rounds = option('rounds', 2);
const burnerCount = option('burners', 4);
const burnMs = option('burn-minutes', 30) * 60_000;

/** A process that keeps one core busy until its deadline, then exits by itself. */
function burner(): ChildProcess {
  const code = `const end = Date.now() + ${burnMs}; let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x += i; }`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

let ava: ChildProcess | null = null;

function runSuite(): Promise<{ passed: number; failed: number; code: number | null; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${ROOT}node_modules/ava/entrypoints/cli.mjs`, '--tap'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    ava = child;
    let passed = 0;
    let failed = 0;
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      process.stdout.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('ok ')) passed++;
        else if (line.startsWith('not ok ')) failed++;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial.startsWith('ok ')) passed++;
      else if (partial.startsWith('not ok ')) failed++;
      // A run that failed without a failing test (a crash, a timeout) still counts as a failure.
      if (code !== 0 && failed === 0) failed = 1;
      resolve({ passed, failed, code, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const burners: ChildProcess[] = [];
const stopBurners = () => {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopBurners();
    // ava ends its workers, whose teardowns stop the processes they started.
    ava?.kill('SIGINT');
    process.exit(130);
  });
}

const results: string[] = [];
let anyFailed = false;
try {
  for (let i = 0; i < burnerCount; i++) burners.push(burner());
  process.stderr.write(`test-stress: ${burnerCount} busy processes started (pids ${burners.map((b) => b.pid).join(', ')})\n`);
  for (let round = 1; round <= rounds; round++) {
    const { passed, failed, seconds } = await runSuite();
    anyFailed ||= failed > 0;
    const line = `round ${round}: ${passed} passed, ${failed} failed (${seconds.toFixed(0)} s, ${burnerCount} busy processes)`;
    results.push(line);
    process.stderr.write(`test-stress: ${line}\n`);
  }
} finally {
  stopBurners();
}
process.stdout.write(`\n${results.join('\n')}\n`);
process.exit(anyFailed ? 1 : 0);
