/**
 * Which FIFOs the server uses right now, by device and inode: the registration FIFO for good, and
 * each live session's three FIFOs while it lasts. A connect request naming one of them, under any
 * path (a hard link included), is refused, so that no client can read another's requests or write
 * into another's answers and notifications.
 */
import { FifoError, type FileId, type FifoPath } from '../os/fifo.js';
import { LINK_REFUSED } from '../../protocol/session-link.js';

export type Claim = { path: FifoPath; id: FileId; what: string };

function keyOf(id: FileId): string {
  return `${id.dev}:${id.ino}`;
}

export class FifoClaims {
  /** Key to a description for people, and the claim it belongs to (null: reserved for good). */
  private readonly held = new Map<string, { what: string; token: object | null }>();

  /** Marks a FIFO as the server's own for as long as it runs (the registration FIFO). */
  reserve(id: FileId, what: string): void {
    this.held.set(keyOf(id), { what, token: null });
  }

  /**
   * Gives up a reservation: the FIFO is no longer the server's (it was removed and the server no
   * longer reads it). Its inode number is free then, and a new file, a client's FIFO among them,
   * may get it: a reservation kept would refuse that client.
   */
  unreserve(id: FileId): void {
    const key = keyOf(id);
    if (this.held.get(key)?.token === null) this.held.delete(key);
  }

  /** Whether the FIFO is the server's own or a live session's. */
  has(id: FileId): boolean {
    return this.held.has(keyOf(id));
  }

  /**
   * Claims FIFOs, all or none; throws a FifoError (code 'refused') naming the first one held
   * already, or named twice. Returns the release, which is idempotent.
   */
  claim(fifos: readonly Claim[]): () => void {
    const keys: string[] = [];
    for (const { path, id } of fifos) {
      const key = keyOf(id);
      const holder = this.held.get(key)?.what ?? (keys.includes(key) ? 'named twice in this request' : null);
      if (holder !== null) throw new FifoError(LINK_REFUSED, path, `is in use: ${holder}`);
      keys.push(key);
    }
    const token = {};
    fifos.forEach(({ what }, i) => this.held.set(keys[i]!, { what, token }));
    return () => {
      for (const key of keys) if (this.held.get(key)?.token === token) this.held.delete(key);
    };
  }
}
