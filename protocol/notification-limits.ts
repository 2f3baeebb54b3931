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

/** Redis's pub/sub defaults are 32 MB hard and 8 MB for 60 s soft; 10 s is plenty to tell here. */
export const DEFAULT_LIMITS: NotificationLimits = {
  capBytes: 32 * 1024 * 1024,
  softBytes: 8 * 1024 * 1024,
  softMs: 10_000,
  stallBytes: 256 * 1024,
  stallMs: 2000,
};
