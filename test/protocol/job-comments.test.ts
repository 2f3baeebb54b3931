/**
 * Trailing comments in the job language: a `#` that follows a complete command after a blank starts
 * a comment (the seed lists its commands that way: `SHOW # Display all pairs`); a `#` inside a key
 * or value is part of it. And HELP shows exactly the syntax the parser accepts.
 */
import test from 'ava';
import { parseLine, type ParsedLine } from '../../protocol/job-language.js';
import { HELP_TEXT } from '../../protocol/output.js';

const ACCEPTED: ReadonlyArray<readonly [string, ParsedLine]> = [
  ['WRITE [(c,3)] # note', { kind: 'write', pairs: ['c', '3'] }],
  ['WRITE [(c,3)]\t#note', { kind: 'write', pairs: ['c', '3'] }],
  ['SHOW # all pairs', { kind: 'show' }],
  ['SHOW #', { kind: 'show' }],
  ['BACKUP   # snapshot\r', { kind: 'backup' }],
  ['HELP # the commands', { kind: 'help' }],
  ['READ [a] #x', { kind: 'read', keys: ['a'] }],
  ['DELETE [a, b] # two keys', { kind: 'delete', keys: ['a', 'b'] }],
  ['WAIT 100 # a pause', { kind: 'wait', ms: 100 }],
  // A `#` inside the brackets is part of a key or value, blank before it or not.
  ['WRITE [(a#b,1)]', { kind: 'write', pairs: ['a#b', '1'] }],
  ['WRITE [(a, #1)]', { kind: 'write', pairs: ['a', '#1'] }],
  ['READ [a, #b] # and a comment', { kind: 'read', keys: ['a', '#b'] }],
  ['WRITE [(#,#)] ## two', { kind: 'write', pairs: ['#', '#'] }],
];

for (const [line, command] of ACCEPTED) {
  test(`${JSON.stringify(line)} parses, its trailing comment ignored`, (t) => {
    t.deepEqual(parseLine(line), command);
  });
}

const REJECTED: ReadonlyArray<readonly [string, RegExp]> = [
  // No blank before the `#`: not a comment, so the line is not a command (as before comments).
  ['WRITE [(a,1)]#x', /WRITE needs a list of pairs/],
  ['READ [a]#x', /READ needs a list of keys/],
  ['SHOW#x', /unknown command 'SHOW#x'/],
  ['WAIT 100#x', /WAIT needs a delay/],
  // Something other than a comment after the command.
  ['SHOW all # pairs', /SHOW takes no arguments/],
  ['WRITE [(a,1)] x # y', /WRITE needs a list of pairs/],
  ['WAIT 100 200 # x', /WAIT needs a delay/],
  // A `#` before the command is complete does not cut it short.
  ['WRITE [(a,1) # (b,2)]', /WRITE needs a list of pairs/],
  ['READ # [a]', /READ needs a list of keys/],
];

for (const [line, reason] of REJECTED) {
  test(`${JSON.stringify(line)} is rejected`, (t) => {
    const parsed = parseLine(line);
    t.is(parsed?.kind, 'invalid', JSON.stringify(parsed));
    if (parsed?.kind === 'invalid') t.regex(parsed.reason, reason);
  });
}

test('each syntax line of HELP, with its ... spelled out, is accepted as written', (t) => {
  const lines = HELP_TEXT.seed.split('\n').slice(1, -1).map((line) => line.trim());
  t.deepEqual(lines, ['WRITE [(key,value)(key2,value2)...]', 'READ [key,key2,...]', 'DELETE [key,key2,...]', 'SHOW', 'WAIT <delay_ms>', 'BACKUP', 'HELP']);
  const spelled = lines.map((line) =>
    line.replace('(key2,value2)...', '(key2,value2)(key3,value3)').replace('key2,...', 'key2,key3').replace('<delay_ms>', '250'),
  );
  t.deepEqual(
    spelled.map((line) => parseLine(line)),
    [
      { kind: 'write', pairs: ['key', 'value', 'key2', 'value2', 'key3', 'value3'] },
      { kind: 'read', keys: ['key', 'key2', 'key3'] },
      { kind: 'delete', keys: ['key', 'key2', 'key3'] },
      { kind: 'show' },
      { kind: 'wait', ms: 250 },
      { kind: 'backup' },
      { kind: 'help' },
    ],
  );
});

test('the comma between pairs that HELP once showed is rejected', (t) => {
  t.is(parseLine('WRITE [(key,value),(key2,value2)]')?.kind, 'invalid');
});
