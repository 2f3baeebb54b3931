/**
 * fast-check arbitraries for the job language: valid keys, values and commands. Strings are byte
 * strings (one char per byte, as the program reads job files in latin1).
 */
import fc from 'fast-check';
import { MAX_WAIT_MS, type Command } from '../../protocol/job-language.js';
import { MAX_STRING_BYTES, RESERVED_VALUES } from '../../protocol/keys.js';

/** Every byte a key or value may hold: printable, not a space, none of ( ) [ ] , and not DEL. */
export const TOKEN_BYTES: readonly string[] = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)).filter((ch) => {
  const c = ch.charCodeAt(0);
  return c > 0x20 && c !== 0x7f && !'()[],'.includes(ch);
});

/** Mostly a small alphabet, so keys repeat; sometimes any allowed byte. */
const tokenByte = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'K', '1', '#', '_') },
  { weight: 1, arbitrary: fc.constantFrom(...TOKEN_BYTES) },
);

export const key = fc.string({ unit: tokenByte, minLength: 1, maxLength: MAX_STRING_BYTES });

export const value = fc.oneof(
  fc.string({ unit: tokenByte, minLength: 1, maxLength: MAX_STRING_BYTES }),
  // Close to the reserved words without being one of them.
  fc.constantFrom('KVSERRO', 'KVSMISSINGX', 'DELETE', 'deleted'),
).filter((v) => !RESERVED_VALUES.has(v));

/** Every command, with keys and values from the arbitraries given. */
export function commandWith(keyArb: fc.Arbitrary<string>, valueArb: fc.Arbitrary<string>): fc.Arbitrary<Command> {
  const keys = fc.array(keyArb, { minLength: 1, maxLength: 5 });
  return fc.oneof(
    fc.array(fc.tuple(keyArb, valueArb), { minLength: 1, maxLength: 5 }).map((pairs): Command => ({ kind: 'write', pairs: pairs.flat() })),
    keys.map((ks): Command => ({ kind: 'read', keys: ks })),
    keys.map((ks): Command => ({ kind: 'delete', keys: ks })),
    fc.constant<Command>({ kind: 'show' }),
    fc.constant<Command>({ kind: 'backup' }),
    fc.constant<Command>({ kind: 'help' }),
    fc.oneof(fc.constantFrom(0, 1, MAX_WAIT_MS), fc.integer({ min: 0, max: MAX_WAIT_MS })).map((ms): Command => ({ kind: 'wait', ms })),
  );
}

export const command: fc.Arbitrary<Command> = commandWith(key, value);

/** A command that takes a bracketed list (its text ends with the only ']'). */
export const listCommand = command.filter((c) => c.kind === 'write' || c.kind === 'read' || c.kind === 'delete');
