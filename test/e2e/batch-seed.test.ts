/**
 * The seed's example (shared/seed.txt, "Input file test.job" and the files after it), run through
 * the real program with the seed's own arguments (`./kvs ./jobs 2 4`).
 */
import test from 'ava';
import { join } from 'node:path';
import { jobsDir, listDir, readBytes, runKvs } from '../helpers/batch.js';

const TEST_JOB = `# Create keys
WRITE [(user1,alice)(user2,bob)]
# Read keys
READ [user1,user2]
# Create backup
BACKUP
# Display all
SHOW
`;

const TEST_OUT = `[(user1,alice)(user2,bob)]
(user1,alice)
(user2,bob)
`;

const TEST_1_BCK = `(user1,alice)
(user2,bob)
`;

test('the seed example gives its test.out and test-1.bck byte for byte', async (t) => {
  const dir = jobsDir(t, { 'test.job': TEST_JOB });
  const result = await runKvs(t, [dir, '2', '4']);
  t.is(result.stderr, '');
  t.is(result.code, 0);
  t.deepEqual(listDir(dir), ['test-1.bck', 'test.job', 'test.out']);
  t.is(readBytes(join(dir, 'test.out')), TEST_OUT);
  t.is(readBytes(join(dir, 'test-1.bck')), TEST_1_BCK);
});

test('a second run truncates the .out and .bck files it rewrites', async (t) => {
  const dir = jobsDir(t, { 'test.job': TEST_JOB, 'test.out': 'stale\n'.repeat(100), 'test-1.bck': 'stale\n'.repeat(100) });
  const result = await runKvs(t, [dir, '2', '4']);
  t.is(result.code, 0);
  t.is(readBytes(join(dir, 'test.out')), TEST_OUT);
  t.is(readBytes(join(dir, 'test-1.bck')), TEST_1_BCK);
});
