/** Comments after a client command, by the job language's rule: after a complete command and a blank. */
import test from 'ava';
import { parseClientLine } from '../../protocol/client-commands.js';

const ACCEPTED: Array<[string, unknown]> = [
  ['SUBSCRIBE k # why', { kind: 'subscribe', key: 'k' }],
  ['SUBSCRIBE [k]\t# why', { kind: 'subscribe', key: 'k' }],
  ['UNSUBSCRIBE k #', { kind: 'unsubscribe', key: 'k' }],
  ['DELAY 5 # seconds', { kind: 'delay', amount: 5 }],
  ['DISCONNECT # bye', { kind: 'disconnect' }],
  ['SUBSCRIBE a#b', { kind: 'subscribe', key: 'a#b' }],
  ['SUBSCRIBE #k', { kind: 'subscribe', key: '#k' }],
  ['# SUBSCRIBE k', { kind: 'skip' }],
];

for (const [line, command] of ACCEPTED) {
  test(`'${line}' is read as ${JSON.stringify(command)}`, (t) => {
    t.deepEqual(parseClientLine(line), { ok: true, command });
  });
}

for (const line of ['SUBSCRIBE # k', 'DELAY # 5', 'SUBSCRIBE k extra # c', 'DISCONNECT now # c']) {
  test(`'${line}' is still refused: the comment does not follow a complete command`, (t) => {
    t.false(parseClientLine(line).ok);
  });
}
