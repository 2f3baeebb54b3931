/**
 * A real replicated Redis for tests (scripts/redis-sentinel.ts launches it): `startSentinels(t)`
 * stops every process and removes the folder in the test's teardown, whatever happened.
 */
import type { ExecutionContext } from 'ava';
import { launchSentinels, type SentinelSetup, until } from '../../scripts/redis-sentinel.js';

export { launchSentinels, type RedisNode, type SentinelSetup } from '../../scripts/redis-sentinel.js';

/** A primary, two replicas and three Sentinels for one test, all stopped in its teardown. */
export async function startSentinels(t: ExecutionContext): Promise<SentinelSetup> {
  const setup = await launchSentinels();
  t.teardown(() => setup.stop());
  return setup;
}

/**
 * Kills the primary (SIGKILL) and waits until the Sentinels name another node as the primary and
 * that node says it is one; returns its port.
 */
export async function failOver(setup: SentinelSetup, deadlineMs = 30_000): Promise<number> {
  const old = await setup.primaryPort();
  await setup.nodes.find((node) => node.port === old)!.kill();
  return until(
    `no replica was promoted after the primary (port ${old}) was killed`,
    deadlineMs,
    async () => {
      const port = await setup.primaryPort();
      if (port === old) return null;
      const client = await setup.connect(port);
      const role = await client.info('replication');
      client.disconnect();
      return /role:master/.test(role) ? port : null;
    },
    setup.output,
  );
}
