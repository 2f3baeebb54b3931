import test from 'ava';
import type { Difference, DifferenceKind } from '../../runtime/check/difference.js';
import { classify } from '../../runtime/check/known-classes.js';
import type { ProgramResult, RunStatus } from '../../runtime/check/program-run.js';

function result(status: RunStatus, out: string | null): ProgramResult {
  return { status, files: new Map(out === null ? [] : [['test.out', out]]), log: '' };
}

function difference(kind: DifferenceKind, theirs: string | null, ours: string | null): Difference {
  const theirStatus: RunStatus = kind === 'hang' ? { kind: 'timeout', ms: 1 } : kind === 'crash' ? { kind: 'signal', signal: 'SIGSEGV' } : { kind: 'exit', code: 0 };
  const ourStatus: RunStatus = kind === 'ours' ? { kind: 'signal', signal: 'SIGABRT' } : { kind: 'exit', code: 0 };
  return { kind, files: [{ name: 'test.out', theirs, ours }], theirs: result(theirStatus, theirs), ours: result(ourStatus, ours) };
}

/** The smallest jobs of the measured classes (docs/check.md), each with outputs as a C program wrote them. */
const CASES: ReadonlyArray<[string, string, Difference]> = [
  ['show-order', 'WRITE [(ab,1)(aa,2)]\nSHOW\n', difference('order', '(ab, 1)\n(aa, 2)\n', '(aa, 2)\n(ab, 1)\n')],
  ['show-case-order', 'WRITE [(b,1)(B,2)(a,3)(A,4)]\nSHOW\n', difference('order', '(a, 3)\n(A, 4)\n(b, 1)\n(B, 2)\n', '(A, 4)\n(B, 2)\n(a, 3)\n(b, 1)\n')],
  ['duplicate-key', 'WRITE [(b,1)(b,2)(a,x)]\nREAD [b]\n', difference('content', '[(b,1)]\n', '[(b,2)]\n')],
  ['length-limit', `WRITE [(${'k'.repeat(40)},1)]\nSHOW\n`, difference('content', '', `(${'k'.repeat(40)}, 1)\n`)],
  ['reserved-value', 'WRITE [(a,KVSERROR)]\nSHOW\n', difference('content', '(a, KVSERROR)\n', '')],
  ['empty-value', 'WRITE [(a,)]\nSHOW\n', difference('content', '(a, )\n', '')],
  ['odd-token', 'WRITE [(a,b(c)]\nSHOW\n', difference('content', '(a, b(c)\n', '')],
  ['trailing-comment', 'SHOW # c\n', difference('content', '', '(a, 1)\n')],
  ['blanks', 'WRITE [(a,1)]\nREAD [a, b]\n', difference('content', '', '[(a,1)(b,KVSERROR)]\n')],
  ['crlf', 'WRITE [(a,1)]\r\nREAD [a]\r\n', difference('content', '', '[(a,1)]\n')],
  ['no-final-newline', 'WRITE [(a,1)]\nREAD [a]', difference('content', '', '[(a,1)]\n')],
  ['swallowed-line', 'WRITE [(a b,c)]\nWRITE [(x,1)]\nSHOW\n', difference('content', '', '(x, 1)\n')],
  ['unterminated-list', 'WRITE [(a,1)]\nREAD [a\nSHOW\n', difference('content', '', '(a, 1)\n')],
  ['wait-arguments', 'WAIT 10 5\n', difference('content', 'Waiting...\n', '')],
  ['odd-first-byte-hang', 'WRITE [(_a,1)]\n', difference('hang', null, '')],
  ['odd-first-byte-hang', 'WRITE [(,v)]\n', difference('hang', null, '')],
  ['odd-first-byte-hang', 'WRITE [(\xe7\xe3o,1)]\n', difference('hang', null, '')],
  ['odd-first-byte-hang', 'WRITE [(_a,KVSERROR)]\n', difference('hang', null, '')],
  ['hang', 'WRITE [(a,1)]\n', difference('hang', null, '')],
  ['empty-list-crash', 'READ []\n', difference('crash', '[', '')],
  ['crash', 'SHOW\n', difference('crash', null, '')],
  ['this-project-failed', 'SHOW\n', difference('ours', '', null)],
  ['unclassified', 'READ [a]\n', difference('content', '[(a,1)]\n', '[(a,KVSERROR)]\n')],
];

for (const [name, job, diff] of CASES) {
  test(`${JSON.stringify(job)} is named ${name}`, (t) => {
    t.is(classify(job, diff).name, name);
  });
}
