import test from 'ava';
import fc from 'fast-check';
import { parseClientLine } from '../../protocol/client-commands.js';
import { parseLine } from '../../protocol/job-language.js';
import { checkToken, escapeControls } from '../../protocol/keys.js';

const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** Whether the job language takes `key` as a key (in a WRITE, so the key could ever exist). */
function jobTakes(key: string): boolean {
  const parsed = parseLine(`WRITE [(${key},v)]`);
  return parsed !== null && parsed.kind === 'write' && parsed.pairs[0] === key;
}

const refused: Array<[string, string]> = [
  ['SUBSCRIBE [a', "key '[a' has a reserved character '['"],
  ['SUBSCRIBE a]', "key 'a]' has a reserved character ']'"],
  ['SUBSCRIBE [a]b', "key '[a]b' has a reserved character '['"],
  ['SUBSCRIBE (k)', "key '(k)' has a reserved character '('"],
  ['UNSUBSCRIBE [k,v]', "key 'k,v' has a reserved character ','"],
  ['SUBSCRIBE [a b]', "key 'a b' has a space or control character"],
  ['SUBSCRIBE a\u0000b', "key 'a\u0000b' has a space or control character"],
  ['SUBSCRIBE a\u007fb', "key 'a\u007fb' has a space or control character"],
  [`SUBSCRIBE ${'k'.repeat(41)}`, `key '${'k'.repeat(41)}' is 41 bytes, longer than 40`],
];

for (const [line, reason] of refused) {
  test(`client line ${escapeControls(JSON.stringify(line))} is refused with the job language's reason`, (t) => {
    t.deepEqual(parseClientLine(line), { ok: false, reason });
  });
}

test('a key ending in byte 0xA0 (UTF-8 à is C3 A0) keeps that byte: blanks are the job language\'s', (t) => {
  const key = bytes('là');
  t.deepEqual(parseClientLine(`SUBSCRIBE ${key}`), { ok: true, command: { kind: 'subscribe', key } });
  t.deepEqual(parseClientLine(`UNSUBSCRIBE [ ${key} ]\t`), { ok: true, command: { kind: 'unsubscribe', key } });
  t.true(jobTakes(key));
});

/** Whether the client sends `key`, as it is, for the line `SUBSCRIBE [key]`. */
function clientTakes(key: string): boolean {
  const parsed = parseClientLine(`SUBSCRIBE [${key}]`);
  return parsed.ok && parsed.command.kind === 'subscribe' && parsed.command.key === key;
}

test('the client takes exactly the keys the job language takes', (t) => {
  // Byte strings from the bytes that matter: token bytes, the reserved ones, blanks, controls, 0xA0.
  const byte = fc.constantFrom(...'ab#é\u00a0\u0085[](),: \t\u0000\u007f\u001b'.split(''));
  const key = fc.array(byte, { minLength: 1, maxLength: 44 }).map((cs) => cs.join(''));
  fc.assert(fc.property(key, (k) => clientTakes(k) === jobTakes(k) && jobTakes(k) === (checkToken(k, 'key') === null)));
  // Whatever the line, a key the client sends is one the job language takes.
  fc.assert(
    fc.property(key, (k) => {
      const parsed = parseClientLine(`SUBSCRIBE ${k}`);
      return !parsed.ok || (parsed.command.kind === 'subscribe' && jobTakes(parsed.command.key));
    }),
  );
  t.pass();
});
