/**
 * Keys and values. Job files and client frames are decoded as latin1, so every string here is a
 * "byte string": one UTF-16 code unit per byte. Lengths are byte lengths, `<` is C `strcmp`
 * order, and any byte sequence (UTF-8 or not) goes back out exactly as it came in.
 */

export const MAX_STRING_BYTES = 40;

/** Words the store uses in its own output, so they cannot be stored as values. */
export const RESERVED_VALUES: ReadonlySet<string> = new Set(['KVSERROR', 'KVSMISSING', 'DELETED']);
/** Their lengths (8, 10, 7): a value of another length needs no lookup. */
export const RESERVED_LENGTHS: ReadonlySet<number> = new Set([...RESERVED_VALUES].map((word) => word.length));

/** Whether a byte can be part of a key or value: no blank, control byte or `( ) [ ] ,`. */
export function isTokenByte(c: number): boolean {
  return c > 0x20 && c !== 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x2c && c !== 0x5b && c !== 0x5d;
}

/** Byte order of two byte strings (C `strcmp` order). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Why a key or value cannot be used, or null when it is fine. */
export function checkToken(token: string, what: 'key' | 'value'): string | null {
  if (token.length === 0) return `empty ${what}`;
  if (token.length > MAX_STRING_BYTES) {
    return `${what} '${token}' is ${token.length} bytes, longer than ${MAX_STRING_BYTES}`;
  }
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (isTokenByte(c)) continue;
    if (c <= 0x20 || c === 0x7f) return `${what} '${token}' has a space or control character`;
    return `${what} '${token}' has a reserved character '${token[i]}'`;
  }
  if (what === 'value' && RESERVED_VALUES.has(token)) return `value '${token}' is a reserved word`;
  return null;
}

/**
 * A byte string (or a message built from byte strings, like checkToken's) shown to a person: its
 * bytes read as UTF-8, and control characters escaped. Convert once, where the text is printed.
 */
export function display(s: string): string {
  return escapeControls(Buffer.from(s, 'latin1').toString('utf8'));
}

/**
 * Text with its control characters (C0, DEL, C1) written as `\xNN`, and its invisible format
 * characters (a byte order mark, zero-width spaces, bidirectional overrides: Unicode's Cf) as
 * `\u{NNNN}`: what a job file or a client sent must not be able to move the cursor, recolour or
 * clear a terminal, break a log line, reorder what is shown, or hide the byte that is wrong.
 */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]|\p{Cf}/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
