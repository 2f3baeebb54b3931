/**
 * A job file saved by a Windows editor: a UTF-8 byte order mark before its first line and CRLF
 * line ends. The mark is not part of the first command (it was: an invisible "unknown command").
 */
import test from 'ava';
import { join } from 'node:path';
import { readBytes, runKvs, tempDir, writeFiles } from '../helpers/batch.js';

const BOM = '\u00ef\u00bb\u00bf'; // the bytes EF BB BF, as writeFiles writes text as latin1

test('a byte order mark before the first line is skipped: the first command runs', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'notepad.job': `${BOM}WRITE [(a,1)]\r\nREAD [a]\r\n` });
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.stderr, '');
  t.is(result.code, 0);
  t.is(readBytes(join(dir, 'notepad.out')), '[(a,1)]\n');
});

test('the same bytes later in a file are not skipped: in a key they are part of it', async (t) => {
  const dir = tempDir(t);
  writeFiles(dir, { 'a.job': `WRITE [(${BOM}k,1)]\nREAD [${BOM}k,k]\n` });
  const result = await runKvs(t, [dir, '1', '1', '--quiet']);
  t.is(result.code, 0, result.stderr);
  t.is(readBytes(join(dir, 'a.out')), `[(k,KVSERROR)(${BOM}k,1)]\n`);
});
