/**
 * The backup children (backup-children.ts), loaded when the first BACKUP is written: most runs
 * have none, and loading them costs the main thread about 10 ms (node:child_process, msgpackr's
 * streams). The job never waits for this: its BACKUP was applied and answered before `write`.
 */
import type { BackupWriter } from '../../actors/backup-coordinator.js';
import type { BackupOutcome, BackupTarget } from '../../protocol/backup-messages.js';
import { errorMessage } from '../../protocol/guards.js';
import type { StoreSnapshot } from '../../protocol/store-contract.js';
import type { BackupChildren } from './children.js';

export class LazyBackupChildren implements BackupWriter {
  private children: BackupChildren | null = null;
  private loading: Promise<BackupChildren> | null = null;

  async write(target: BackupTarget, snapshot: StoreSnapshot, signal: AbortSignal): Promise<BackupOutcome> {
    let children = this.children;
    if (children === null) {
      try {
        children = await (this.loading ??= import('./children.js').then(({ BackupChildren }) => (this.children = new BackupChildren())));
      } catch (error) {
        this.loading = null;
        await snapshot.release().catch(() => undefined);
        return { ok: false, reason: `cannot load the backup writer: ${errorMessage(error)}` };
      }
    }
    return children.write(target, snapshot, signal);
  }

  /** Exiting at once (a second Ctrl-C): the backups under way are abandoned. */
  killAll(): void {
    this.children?.killAll();
  }

  /** Ends the idle children. Call once no backup is under way. */
  close(): void {
    this.children?.close();
  }
}
