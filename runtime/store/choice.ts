/**
 * Chooses the store at start-up (`--store`): the embedded in-memory store, or the store on Redis
 * shared by any number of kvs hosts. Both are behind protocol/store-contract.ts; this is the one
 * place that knows both, and the Redis client is loaded only when it is asked for.
 */
import { MemoryStore } from './memory-store.js';
import { errorMessage } from '../../protocol/guards.js';
import type { KvStore } from '../../protocol/store-contract.js';

export type StoreOpening =
  | { readonly ok: true; readonly store: KvStore }
  /** `badUrl`: the URL itself cannot be used (a bad argument); otherwise the store cannot be reached. */
  | { readonly ok: false; readonly badUrl: boolean; readonly reason: string };

/**
 * `url` null: the in-memory store. Never throws: a store that cannot be opened is one reason.
 * `report` is told what a store that lives through failovers goes through.
 */
export async function openStore(url: string | null, report: (text: string) => void): Promise<StoreOpening> {
  if (url === null) return { ok: true, store: new MemoryStore() };
  const { RedisStore } = await import('../redis/store.js');
  try {
    return { ok: true, store: await RedisStore.open(url, { onFailover: report }) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, badUrl: code === 'REDIS_STORE_URL', reason: errorMessage(error) };
  }
}
