import test from 'ava';
import { shrinkOrder } from '../../runtime/check/batch-check.js';
import type { Difference, DifferenceKind } from '../../runtime/check/difference.js';

function difference(kind: DifferenceKind): Difference {
  const result = { status: { kind: 'exit', code: 0 } as const, files: new Map<string, string>(), log: '' };
  return { kind, files: [], theirs: result, ours: result };
}

test('the first run of each kind of difference is shrunk before the others, then the rest in run order', (t) => {
  const kinds: Record<number, DifferenceKind> = { 2: 'order', 3: 'order', 5: 'content', 7: 'order', 8: 'hang', 9: 'content' };
  const differences = new Map(Object.entries(kinds).map(([run, kind]) => [Number(run), difference(kind)]));
  t.deepEqual(shrinkOrder([2, 3, 5, 7, 8, 9], differences), [2, 5, 8, 3, 7, 9]);
});
