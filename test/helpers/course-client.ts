/**
 * The course-like C client (test/helpers/course-client.c), compiled with gcc once per test file
 * into a temporary folder, and started as a real process whose FIFOs are removed in t.teardown.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import { removeFileSync } from '../../runtime/os/fifo.js';
import { Proc, ROOT, clientFifos, uniqueId } from './processes.js';

export const COURSE_CLIENT_SOURCE = join(ROOT, 'test/helpers/course-client.c');

/** Compiles the client; returns the binary's path and the way to remove it. */
export async function buildCourseClient(): Promise<{ binary: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kvs-course-client-'));
  const binary = join(dir, 'course-client');
  try {
    await promisify(execFile)('gcc', ['-Wall', '-Wextra', '-Werror', '-O1', '-pthread', '-o', binary, COURSE_CLIENT_SOURCE]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { binary, remove: () => rm(dir, { recursive: true, force: true }) };
}

export type CourseClient = Proc & { id: string; send(line: string): void; end(): void };

/** `order`: the FIFOs in the order the client opens them, e.g. 'resp,req,notif'. */
export function startCourseClient(t: ExecutionContext, binary: string, fifo: string, order: string): CourseClient {
  const id = uniqueId();
  const proc = new Proc(spawn(binary, [id, fifo, order], { stdio: ['pipe', 'pipe', 'pipe'] }));
  proc.child.stdin?.on('error', () => {});
  t.teardown(async () => {
    if (proc.alive) proc.child.kill('SIGKILL');
    await proc.exited;
    for (const path of clientFifos(id)) removeFileSync(path);
  });
  return Object.assign(proc, {
    id,
    send: (line: string) => void proc.child.stdin?.write(`${line}\n`),
    end: () => void proc.child.stdin?.end(),
  });
}
