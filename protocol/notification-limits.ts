/**
 * How far a session's notifications may fall behind before the session ends (the notification
 * writer in runtime/ enforces them; the server hands them to each session). See
 * runtime/server/notification-writer.ts for what each limit catches.
 */
export type NotificationLimits = {
  capBytes: number;
  stallBytes: number;
  stallMs: number;
  /** The soft limit; none when left out. */
  softBytes?: number;
  softMs?: number;
};

/**
 * Redis's pub/sub defaults: 32 MB hard, 8 MB for 60 s soft. A reader that takes nothing gets the
 * same 60 s: a client suspended at a terminal, or starved of CPU beside busy processes, for less
 * than that is slow, not gone (a 2 s window dropped a live reader under load).
 */
export const DEFAULT_LIMITS: NotificationLimits = {
  capBytes: 32 * 1024 * 1024,
  softBytes: 8 * 1024 * 1024,
  softMs: 60_000,
  stallBytes: 256 * 1024,
  stallMs: 60_000,
};
