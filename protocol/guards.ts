/**
 * Small guards every part of the program shares: exhaustiveness for switches, the first step of a
 * message guard, and the text of a caught value.
 */

/** Ends a switch over a union: a new member does not compile until every switch handles it. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/** The first step of every guard on decoded data: an object whose fields can be looked at. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The message of an Error, or the value as text: what a caught `unknown` says. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
