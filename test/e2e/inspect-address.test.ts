/**
 * `--inspect=URL` that no relay could ever be at (a port past 65535, a host that is not one) is a
 * bad argument, as the README says of anything that is not a ws:// or wss:// address: the reason,
 * the help line, exit 2, and no job is run.
 */
import test from 'ava';
import { jobsDir, listDir, runKvs, stderrLines } from '../helpers/batch.js';

for (const address of ['ws://localhost:99999', 'ws://[::1', 'wss://a b:80', 'ws://host:port']) {
  test(`--inspect=${address} is a bad argument, exit 2`, async (t) => {
    const dir = jobsDir(t, { 'a.job': 'WRITE [(k,1)]\n' });
    const result = await runKvs(t, [dir, '1', '1', `--inspect=${address}`]);
    t.is(result.code, 2, result.stderr);
    t.deepEqual(stderrLines(result), [`kvs: --inspect must be a ws:// or wss:// address, such as ws://localhost:8080, not '${address}'`, "kvs: run 'node runtime/main.js --help' for the usage"]);
    t.deepEqual(listDir(dir), ['a.job'], 'no job ran');
  });
}
