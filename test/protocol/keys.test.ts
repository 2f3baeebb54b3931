import test from 'ava';
import { checkToken, compareKeys, display, escapeControls } from '../../protocol/keys.js';

const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

test('display reads a byte string as UTF-8', (t) => {
  t.is(display(bytes('ключ é ш')), 'ключ é ш');
  // 'ш' is d1 88: its second byte is in the C1 range as a byte, but not once decoded.
  t.is(display(bytes('ш')).length, 1);
});

test('display and escapeControls write control characters as \\xNN', (t) => {
  t.is(escapeControls('a\u001b[2Jb\nc\u0007\u007f\u009bd\te'), 'a\\x1b[2Jb\\x0ac\\x07\\x7f\\x9bd\\x09e');
  t.is(display(`x${'\u001b'}${bytes('é')}`), 'x\\x1bé');
  t.is(escapeControls('plain text, ключ'), 'plain text, ключ');
});

test('display shows the invisible: a byte order mark, zero-width and bidirectional characters', (t) => {
  // A job file saved with a byte order mark: its first line's report names the bytes at fault.
  t.is(display(`${bytes('\ufeff')}WRITE`), '\\u{feff}WRITE');
  t.is(escapeControls('a\u200bb\u202ec\u00add'), 'a\\u{200b}b\\u{202e}c\\xadd');
});

test("checkToken's reasons keep the token's bytes, for display() to convert once", (t) => {
  const key = bytes('ключ'.repeat(6));
  t.is(checkToken(key, 'key'), `key '${key}' is 48 bytes, longer than 40`);
  t.is(display(checkToken(key, 'key')!), `key '${'ключ'.repeat(6)}' is 48 bytes, longer than 40`);
  t.is(display(checkToken('a\u0007b', 'key')!), "key 'a\\x07b' has a space or control character");
});

test('keys compare by bytes', (t) => {
  t.true(compareKeys(bytes('é'), 'z') > 0);
  t.is(compareKeys('a', 'a'), 0);
});
