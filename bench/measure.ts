/**
 * One measured run of a command, for the benchmarks: its wall time, the CPU of its whole process
 * tree, and its peak RSS.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface Run {
  readonly seconds: number;
  /** User + system CPU of the whole process tree. */
  readonly cpu: number;
  readonly peakRssMb: number;
}

function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pid of the shell's child (the program), once it exists. */
function childOf(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

/**
 * Runs a command under `sh`, whose `times` builtin reports the CPU of every process it waited
 * for and their own waited children (a Node process reaps its backup children).
 */
export async function measure(command: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const started = process.hrtime.bigint();
  // stderr is kept, and shown only if the run fails: the sample folder's mistakes.job reports its
  // invalid lines there on purpose, which would bury the figures.
  const child = spawn('sh', ['-c', '"$@"; status=$?; times >&3; exit $status', 'sh', ...command], { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('latin1')).slice(-4096)));
  let times = '';
  child.stdio[3]!.on('data', (chunk: Buffer) => (times += chunk.toString('latin1')));
  let peak = 0;
  let program: number | null = null;
  const poll = setInterval(() => {
    program ??= childOf(child.pid!);
    if (program !== null) peak = Math.max(peak, peakRss(program));
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(poll);
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${code}; its stderr ended with:\n${stderr}`);
  await new Promise((resolve) => setImmediate(resolve));
  // Two lines: the shell's own user and system time, then its children's.
  const fields = [...(times.trim().split('\n')[1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (fields.length !== 2) throw new Error(`cannot read the CPU times from ${JSON.stringify(times)}`);
  return { seconds, cpu: fields[0]! + fields[1]!, peakRssMb: peak };
}
