/**
 * The V8 heap settings of the main process, in one place: runtime/main.js applies them before the
 * program starts, and the BACKUP pause benchmark applies the same, so it measures the program's
 * collections.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * The store's young generation holds each batch's decoded strings only briefly: V8's default lets
 * it grow to 3 x 16 MiB, which buys no speed here and costs a third of the peak RSS.
 */
export const MAX_SEMI_SPACE_MB = 8;

export function tuneHeap(): void {
  setFlagsFromString(`--max-semi-space-size=${MAX_SEMI_SPACE_MB}`);
}
