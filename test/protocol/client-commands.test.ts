import test from 'ava';
import { clientPaths, parseClientLine } from '../../protocol/client-commands.js';

const good: Array<[string, unknown]> = [
  ['SUBSCRIBE k', { kind: 'subscribe', key: 'k' }],
  ['SUBSCRIBE [k]', { kind: 'subscribe', key: 'k' }],
  // No blank before the bracket, as the job language takes READ[k].
  ['SUBSCRIBE[k]', { kind: 'subscribe', key: 'k' }],
  ['UNSUBSCRIBE[ key1 ]', { kind: 'unsubscribe', key: 'key1' }],
  ['  UNSUBSCRIBE   key1  ', { kind: 'unsubscribe', key: 'key1' }],
  ['DELAY 5', { kind: 'delay', amount: 5 }],
  ['DISCONNECT', { kind: 'disconnect' }],
  ['# comment', { kind: 'skip' }],
  ['', { kind: 'skip' }],
];

for (const [line, command] of good) {
  test(`client line '${line}' parses`, (t) => {
    t.deepEqual(parseClientLine(line), { ok: true, command });
  });
}

const bad = ['SUBSCRIBE', 'SUBSCRIBE a b', 'SUBSCRIBE []', `SUBSCRIBE ${'k'.repeat(41)}`, 'DELAY', 'DELAY -1', 'DELAY x', 'DISCONNECT now', 'subscribe k', 'WRITE [(a,b)]', 'SUBSCRIBE[a', 'SUBSCRIBEk', 'DELAY[5]', 'DISCONNECT[]'];

for (const line of bad) {
  test(`client line '${line}' is refused with a reason`, (t) => {
    const parsed = parseClientLine(line);
    t.false(parsed.ok);
  });
}

test('client ids: paths in /tmp, at most 40 bytes, no slash', (t) => {
  t.deepEqual(clientPaths('c1'), { req: '/tmp/reqc1', resp: '/tmp/respc1', notif: '/tmp/notifc1' });
  t.false('error' in clientPaths('x'.repeat(30)));
  t.true('error' in clientPaths('x'.repeat(31)));
  t.true('error' in clientPaths('a/b'));
  t.true('error' in clientPaths(''));
});
