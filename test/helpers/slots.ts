/**
 * A bound on how many real servers (or program runs) one test file's worker starts at once. ava
 * runs the tests of a file concurrently; on a loaded 2-core machine ten servers starting together
 * each take longer than any sane deadline. A test waits here for a slot before it spawns; the
 * deadlines of its waits start after that. ava's own timeout only counts inactivity of the whole
 * file, so a test queued behind others is not timed out while the others finish.
 */
import type { ExecutionContext } from 'ava';

export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private readonly holders = new WeakSet<object>();

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Waits for a slot and holds it until `release` is called. */
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.free++;
    };
  }

  /**
   * Holds a slot for the rest of test `t`, released by its teardown. Registered before the
   * teardowns that stop the test's processes, it runs after them (ava runs teardowns last
   * registered first), so a slot is free only once its processes are gone. A test already
   * holding a slot does not wait for a second one (it would wait for itself).
   */
  async holdFor(t: ExecutionContext): Promise<void> {
    if (this.holders.has(t)) return;
    this.holders.add(t);
    const release = await this.take();
    t.teardown(release);
  }
}

function slotsFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Servers started by startServer at once in one test file (KVS_TEST_SERVERS overrides). */
export const SERVER_SLOTS = new Slots(slotsFromEnv('KVS_TEST_SERVERS', 1));
/** Batch runs of the program (runKvs) at once in one test file (KVS_TEST_RUNS overrides). */
export const RUN_SLOTS = new Slots(slotsFromEnv('KVS_TEST_RUNS', 2));
