/**
 * Stopping a batch run with SIGINT, SIGTERM or SIGHUP (a closed terminal): the commands under way
 * finish, what ran is in the .out, backups in progress complete, and the exit code is 128 + the
 * signal's number, as a shell reports a process a signal ended.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listDir, readBytes, startKvs, tempDir, waitFor, writeFiles } from '../helpers/batch.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} during a long WAIT stops the job, keeps what ran and exits ${EXIT_CODES[signal]}`, async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, {
      'a.job': 'WRITE [(a,1)]\nREAD [a]\nBACKUP\nWAIT 600000\nREAD [a]\n',
      'b.job': 'WRITE [(b,2)]\nREAD [b]\nBACKUP\n',
    });
    const running = startKvs(t, [dir, '1', '2']);
    // a's backup is taken just before its WAIT, b's after its last command: once both are
    // written, a is at the WAIT and all of b has been applied.
    await waitFor(() => (existsSync(join(dir, 'a-1.bck')) && existsSync(join(dir, 'b-1.bck')) ? true : undefined), 'a-1.bck and b-1.bck');
    running.child.kill(signal);
    const result = await running.result;
    t.is(result.code, EXIT_CODES[signal], result.stderr);
    t.is(readBytes(join(dir, 'a.out')), '[(a,1)]\nWaiting...\n');
    t.is(readBytes(join(dir, 'b.out')), '[(b,2)]\n');
    t.regex(readBytes(join(dir, 'a-1.bck')) ?? '', /^\(a,1\)\n(\(b,2\)\n)?$/);
    t.deepEqual(listDir(dir), ['a-1.bck', 'a.job', 'a.out', 'b-1.bck', 'b.job', 'b.out']);
  });
}
