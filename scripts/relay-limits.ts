/** The inspector relay's (scripts/inspect-relay.ts) bounds on what a connection may make it hold. */

/** A browser that stops reading is dropped rather than let to grow the relay's heap. */
export const MAX_BUFFERED_BYTES = 16 << 20;
/**
 * Kept for a browser that opens late: every actor registration (up to a bound) and the last events.
 * Both together stay under MAX_BUFFERED_BYTES, so a browser is never dropped for its own replay.
 */
export const MAX_KEPT_ACTORS = { count: 2_000, bytes: 8 << 20 } as const;
export const MAX_KEPT_OTHERS = { count: 200, bytes: 4 << 20 } as const;
/**
 * The largest message taken (ws's maxPayload; its default is 100 MiB). An inspection event is a
 * machine's event or snapshot, whose big objects are named, not copied: a few KiB at most.
 * A connection that sends a bigger one is closed (1009, message too big).
 */
export const MAX_MESSAGE_BYTES = 1 << 20;
