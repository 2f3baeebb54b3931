/**
 * The backup coordinator: at most `max` backups in progress, each written by one of the backup
 * child processes; a BACKUP beyond the limit waits for a slot, in arrival order, and so does its
 * job (as in the seed's C). The snapshot is taken (in O(1) in memory, a COPY on Redis) only when
 * the slot is given, by the request's `begin`, so at most `max` snapshots are ever held.
 * A failed backup (a child that died, a disk error) is reported with its job and number, its
 * slot comes back, and the run goes on.
 */
import { type ActorRefFrom, assign, enqueueActions, fromCallback, setup } from 'xstate';
import type { BackupOutcome, BackupTarget } from '../protocol/backup-messages.js';
import type { Compat } from '../protocol/compat.js';
import { errorMessage } from '../protocol/guards.js';
import type { StoreSnapshot } from '../protocol/store-contract.js';

/** The coordinator's system id: job actors find it by this to send `backup.request`. */
export const BACKUPS_SYSTEM_ID = 'backups';

export interface BackupRequest {
  /** The job's name (its file name without `.job`) and the backup's number in that job. */
  readonly job: string;
  readonly n: number;
  readonly path: string;
  /**
   * Called when a slot is free: applies the job's commands up to its BACKUP and settles with the
   * snapshot taken there (rejects when the store could not apply them), or returns (or settles
   * with) null when the job stopped meanwhile (nothing to write).
   */
  readonly begin: () => Promise<StoreSnapshot | null> | null;
}

/**
 * What writes a backup: the child processes in the program, a stub in tests. Aborting `signal`
 * abandons the backup if it can still be (the snapshot not yet all sent): no `.bck` is written.
 */
export interface BackupWriter {
  write(target: BackupTarget, snapshot: StoreSnapshot, signal: AbortSignal): Promise<BackupOutcome>;
}

export interface BackupFailure {
  readonly job: string;
  readonly n: number;
  readonly reason: string;
}

export interface BackupCoordinatorInput {
  readonly max: number;
  readonly compat: Compat;
  readonly writer: BackupWriter;
  readonly report: (line: string) => void;
}

interface BackupCoordinatorContext extends BackupCoordinatorInput {
  readonly queue: readonly BackupRequest[];
  readonly running: number;
  readonly completed: number;
  readonly failures: readonly BackupFailure[];
  readonly started: number;
}

export type BackupCoordinatorEvent =
  | { type: 'backup.request'; request: BackupRequest }
  | { type: 'backup.finished'; id: string; request: BackupRequest; outcome: BackupOutcome }
  | { type: 'backup.cancelled'; id: string }
  | { type: 'coordinator.drain' };

export interface BackupCoordinatorOutput {
  readonly completed: number;
  readonly failures: readonly BackupFailure[];
}

interface WriteBackupInput {
  readonly id: string;
  readonly request: BackupRequest;
  readonly writer: BackupWriter;
  readonly compat: Compat;
}

const writeBackup = fromCallback<{ type: 'never' }, WriteBackupInput>(({ input, sendBack }) => {
  const { id, request, writer, compat } = input;
  const snapshot = request.begin();
  if (snapshot === null) {
    sendBack({ type: 'backup.cancelled', id });
    return () => undefined;
  }
  const abort = new AbortController();
  let settled = false;
  let stopped = false;
  const settle = (outcome: BackupOutcome) => {
    settled = true;
    if (!stopped) sendBack({ type: 'backup.finished', id, request, outcome });
  };
  snapshot
    .then((taken) => {
      if (taken === null) return null;
      if (!abort.signal.aborted) return writer.write({ path: request.path, compat }, taken, abort.signal);
      // Stopped while the snapshot was being taken: drop it, write nothing.
      return taken.release().then((): BackupOutcome => ({ ok: false, reason: `cancelled: ${errorMessage(abort.signal.reason)}` }));
    })
    .then(
      (outcome) => {
        settled = true;
        if (outcome === null) {
          if (!stopped) sendBack({ type: 'backup.cancelled', id });
        } else settle(outcome);
      },
      (error: unknown) => settle({ ok: false, reason: errorMessage(error) }),
    );
  // Stopped before the write ended (the coordinator itself is stopped): the backup is abandoned.
  // The writer releases the snapshot; a child already writing the file finishes it whole.
  return () => {
    stopped = true;
    if (!settled) abort.abort(new Error(`backup ${request.job}-${request.n}: the backup coordinator stopped`));
  };
});

export const backupCoordinatorMachine = setup({
  types: {
    input: {} as BackupCoordinatorInput,
    context: {} as BackupCoordinatorContext,
    events: {} as BackupCoordinatorEvent,
    output: {} as BackupCoordinatorOutput,
  },
  actors: { writeBackup },
  guards: {
    hasFreeSlot: ({ context }) => context.queue.length > 0 && context.running < context.max,
    isIdle: ({ context }) => context.queue.length === 0 && context.running === 0,
  },
  actions: {
    enqueue: assign({
      queue: ({ context, event }) => (event.type === 'backup.request' ? [...context.queue, event.request] : context.queue),
    }),
    startNext: enqueueActions(({ context, enqueue }) => {
      const [request, ...rest] = context.queue;
      if (request === undefined) return;
      const id = `backup-${context.started}`;
      enqueue.spawnChild('writeBackup', {
        id,
        input: { id, request, writer: context.writer, compat: context.compat },
      });
      enqueue.assign({ queue: rest, running: context.running + 1, started: context.started + 1 });
    }),
    cancel: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'backup.cancelled') return;
      enqueue.stopChild(event.id);
      enqueue.assign({ running: context.running - 1 });
    }),
    finish: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'backup.finished') return;
      enqueue.stopChild(event.id);
      const { request, outcome } = event;
      if (outcome.ok) {
        enqueue.assign({ running: context.running - 1, completed: context.completed + 1 });
        return;
      }
      context.report(`backup ${request.job}-${request.n}.bck (backup ${request.n} of job ${request.job}) failed: ${outcome.reason}`);
      enqueue.assign({
        running: context.running - 1,
        failures: [...context.failures, { job: request.job, n: request.n, reason: outcome.reason }],
      });
    }),
  },
}).createMachine({
  id: 'backupCoordinator',
  context: ({ input }) => ({ ...input, queue: [], running: 0, completed: 0, failures: [], started: 0 }),
  initial: 'accepting',
  states: {
    accepting: {
      always: { guard: 'hasFreeSlot', actions: 'startNext' },
      on: {
        'backup.request': { actions: 'enqueue' },
        'backup.finished': { actions: 'finish' },
        'backup.cancelled': { actions: 'cancel' },
        'coordinator.drain': { target: 'draining' },
      },
    },
    draining: {
      always: [
        { guard: 'hasFreeSlot', actions: 'startNext' },
        { guard: 'isIdle', target: 'drained' },
      ],
      on: {
        // A job stopped late may still take a backup while the rest drain.
        'backup.request': { actions: 'enqueue' },
        'backup.finished': { actions: 'finish' },
        'backup.cancelled': { actions: 'cancel' },
      },
    },
    drained: { type: 'final' },
  },
  output: ({ context }) => ({ completed: context.completed, failures: context.failures }),
});

/** What observers (the progress line, the run's summary) read of the coordinator, not its context. */
export interface BackupsView {
  /** Backups being written now, and BACKUPs waiting for a slot. */
  readonly running: number;
  readonly waiting: number;
  readonly completed: number;
  readonly failed: number;
}

export function backupsView(coordinator: ActorRefFrom<typeof backupCoordinatorMachine>): BackupsView {
  const { running, queue, completed, failures } = coordinator.getSnapshot().context;
  return { running, waiting: queue.length, completed, failed: failures.length };
}
