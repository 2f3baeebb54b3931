/**
 * A job file saved by a Windows editor: a UTF-8 byte order mark before its first line and CRLF
 * line ends. As in the C implementations, the mark is part of the first line (so that command is
 * refused); the report shows it and says what it is, since a terminal shows it as nothing.
 */
import test from 'ava';
import { join } from 'node:path';
import { readBytes, runKvs, tempDir, writeFiles } from '../helpers/batch.js';

const BOM = '\u00ef\u00bb\u00bf'; // the bytes EF BB BF, as writeFiles writes text as latin1

test('a byte order mark before the first line is part of it, and its report names the mark', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'notepad.job': `${BOM}WRITE [(a,1)]\r\nREAD [a]\r\n` });
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.stderr, `${join(dir, 'notepad.job')}:1: unknown command '\\u{feff}WRITE' (the file starts with a UTF-8 byte order mark: save it without one)\n`);
  t.is(readBytes(join(dir, 'notepad.out')), '[(a,KVSERROR)]\n');
});

test('the same bytes later in a file are not special: in a key they are part of it', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': `WRITE [(${BOM}k,1)]\nREAD [${BOM}k,k]\n` });
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.code, 0, result.stderr);
  t.is(readBytes(join(dir, 'a.out')), `[(k,KVSERROR)(${BOM}k,1)]\n`);
});
