/**
 * System errors in a user's words. Node's own text (`EACCES: permission denied, scandir '/x'`)
 * repeats the code and the path the caller already names, and `String(error)` adds `Error: `.
 */
import { errorMessage } from './guards.js';

/** The error's code (`ENOENT`), or undefined for an error that is not a system error. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `permission denied` for an EACCES, the OS's description for any system error, else the message. */
export function describeError(error: unknown): string {
  const message = errorMessage(error);
  const code = errorCode(error);
  // libuv's messages read `CODE: description, syscall 'path'`: keep the description.
  const described = code === undefined ? null : new RegExp(`^${code}: ([^,]+)`).exec(message);
  return described?.[1] ?? message;
}
