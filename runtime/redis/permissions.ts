/**
 * What the store asks of its Redis user, and the Lua that checks it without running anything.
 *
 * Redis 7 gives ACL users no pub/sub channels by default, and an ACL can refuse any command, key
 * or channel. Redis checks a script's calls one by one as they run and never rolls a script back,
 * so a refusal after a script's first write would leave half a batch. `redis.acl_check_cmd` asks
 * the same question as the real call without running it: the batch script asks it for every call
 * it may make before its first write (runtime/redis/batch-script.ts), and a host asks it for
 * every call the store makes, in and out of the script, when it opens the store (PROBE_SCRIPT),
 * so that a user who may not do all of it is one line at start, nothing written.
 */
import { Op } from '../../protocol/batch-codec.js';

/**
 * Placeholders in a call, replaced by the store's names: the data hash, a copy key, the channel,
 * the change stream and the run's record (the last two of a `redis-sentinel://` store only).
 */
const DATA = 1;
const COPY = 2;
const CHANNEL = 3;
const STREAM = 4;
const RUN = 5;
type Arg = typeof DATA | typeof COPY | typeof CHANNEL | typeof STREAM | typeof RUN | string;
/**
 * A call, the batch operations that make it, and when it is made: a plain store publishes its
 * changes, a store that lives through failovers appends them to a stream and records each batch
 * in its run's record (runtime/redis/batch-script.ts); the rest, always.
 */
type Need = { readonly ops: readonly Op[]; readonly call: readonly Arg[]; readonly when?: 'plain' | 'failover' };

/**
 * Every call the batch script makes (runtime/redis/batch-script.ts) that could come after its
 * first write, with stand-in fields and values and the operations that make it: a batch checks
 * the calls of the operations it holds (TYPE and EXISTS come before any write: a refusal there
 * changes nothing).
 */
const EVERY_OP = Object.values(Op);

const SCRIPT_CALLS: readonly Need[] = [
  { ops: [Op.Write], call: ['HSET', DATA, 'f', 'v'] },
  { ops: [Op.Write, Op.Delete], call: ['PUBLISH', CHANNEL, 'm'], when: 'plain' },
  { ops: [Op.Write, Op.Delete], call: ['XADD', STREAM, 'MAXLEN', '~', '1', '*', 'c', 'm'], when: 'failover' },
  { ops: EVERY_OP, call: ['RPUSH', RUN, 'e'], when: 'failover' },
  { ops: EVERY_OP, call: ['LTRIM', RUN, '0', '1'], when: 'failover' },
  { ops: EVERY_OP, call: ['PEXPIRE', RUN, '1'], when: 'failover' },
  { ops: [Op.Read, Op.Delete], call: ['HMGET', DATA, 'f'] },
  { ops: [Op.Delete], call: ['HDEL', DATA, 'f'] },
  { ops: [Op.Show], call: ['HLEN', DATA] },
  { ops: [Op.Show], call: ['HGETALL', DATA] },
  { ops: [Op.Show, Op.Backup], call: ['COPY', DATA, COPY] },
  { ops: [Op.Show, Op.Backup], call: ['PEXPIRE', COPY, '1'] },
  { ops: [Op.Show, Op.Backup], call: ['HLEN', COPY] },
];

/**
 * The calls the start-up probe checks beside those: the script's calls before its first write,
 * and the store's calls outside the script (runtime/redis/store.ts, snapshot.ts, changes.ts). INFO,
 * SCRIPT LOAD and EVALSHA are checked by being made at start; SELECT and CLIENT SETNAME at connect.
 */
const OTHER_CALLS: readonly Need[] = (
  [
    ['TYPE', DATA],
    ['EXISTS', COPY],
    ['EVALSHA', '0000000000000000000000000000000000000000', '2', DATA, COPY],
    ['HEXISTS', DATA, 'f'],
    ['HSCAN', COPY, '0', 'COUNT', '1'],
    ['UNLINK', COPY],
  ] as const
)
  .map((call): Need => ({ ops: EVERY_OP, call }))
  .concat([
    { ops: EVERY_OP, call: ['SUBSCRIBE', CHANNEL], when: 'plain' },
    { ops: EVERY_OP, call: ['XREAD', 'COUNT', '1', 'STREAMS', STREAM, '0'], when: 'failover' },
    { ops: EVERY_OP, call: ['XRANGE', STREAM, '-', '+', 'COUNT', '1'], when: 'failover' },
    { ops: EVERY_OP, call: ['LRANGE', RUN, '0', '-1'], when: 'failover' },
    { ops: EVERY_OP, call: ['WAIT', '1', '0'], when: 'failover' },
  ]);

/**
 * Lua: `refusedCalls(present, data, copies, channel, stream, run)`, every call of the operations
 * in `present` (a table, op code to true) that the user may not make, as text (`PUBLISH
 * {kvs}:changes@0 m`), one per copy key for a call on a copy; empty when all may run. `stream`
 * and `run` are '' for a plain store. Straight-line code, one `if` a call: a table of the calls
 * built at each run cost more than the checks themselves.
 */
function refusedCallsLua(calls: readonly Need[]): string {
  const names = { [DATA]: 'data', [COPY]: 'copy', [CHANNEL]: 'channel', [STREAM]: 'stream', [RUN]: 'run' } as Record<Arg, string>;
  const lua = (a: Arg) => (typeof a === 'number' ? names[a]! : `'${a}'`);
  const lines = calls.map(({ ops, call, when: mode }) => {
    const check = `check(${call.map(lua).join(', ')})`;
    const any = ops.length === EVERY_OP.length ? 'true' : ops.map((op) => `present[${op}]`).join(' or ');
    const when = mode === undefined ? any : `${mode === 'plain' ? "stream == ''" : "stream ~= ''"} and (${any})`;
    return call.includes(COPY) ? `  if ${when} then for _, copy in ipairs(copies) do ${check} end end` : `  if ${when} then ${check} end`;
  });
  return `local function refusedCalls(present, data, copies, channel, stream, run)
  local refused = {}
  local function check(...)
    if not redis.acl_check_cmd(...) then refused[#refused + 1] = table.concat({ ... }, ' ') end
  end
${lines.join('\n')}
  return refused
end
`;
}

/** For the batch script: the check of its own calls, run before its first write. */
export const SCRIPT_CALLS_CHECK_LUA = refusedCallsLua(SCRIPT_CALLS);

/**
 * The start-up probe: ARGV[1] the data hash, ARGV[2] a copy key of the form the store makes,
 * ARGV[3] the channel, ARGV[4] the change stream and ARGV[5] a run record ('' and '' for a plain
 * store). Returns the refused calls. It declares no keys (the keys the real EVALSHA declares are
 * checked as one of its calls) and may not write, so it runs on a full Redis too.
 */
export const PROBE_SCRIPT = `#!lua flags=no-writes
${refusedCallsLua([...SCRIPT_CALLS, ...OTHER_CALLS])}
return refusedCalls({ ${EVERY_OP.map((op) => `[${op}] = true`).join(', ')} }, ARGV[1], { ARGV[2] }, ARGV[3], ARGV[4], ARGV[5])
`;
