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

/** Placeholders in a call, replaced by the store's names: the data hash, a copy key, the channel. */
const DATA = 1;
const COPY = 2;
const CHANNEL = 3;
type Arg = typeof DATA | typeof COPY | typeof CHANNEL | string;

/** Every call the batch script makes (runtime/redis/batch-script.ts), with stand-in fields and values. */
const SCRIPT_CALLS: readonly (readonly Arg[])[] = [
  ['TYPE', DATA],
  ['EXISTS', COPY],
  ['HLEN', DATA],
  ['HGETALL', DATA],
  ['HSET', DATA, 'f', 'v'],
  ['PUBLISH', CHANNEL, 'm'],
  ['HMGET', DATA, 'f'],
  ['HDEL', DATA, 'f'],
  ['COPY', DATA, COPY],
  ['PEXPIRE', COPY, '1'],
  ['HLEN', COPY],
];

/**
 * The store's calls outside the script (runtime/redis/store.ts, snapshot.ts, changes.ts). INFO,
 * SCRIPT LOAD and EVALSHA are checked by being made at start; SELECT and CLIENT SETNAME at connect.
 */
const OTHER_CALLS: readonly (readonly Arg[])[] = [
  ['EVALSHA', '0000000000000000000000000000000000000000', '2', DATA, COPY],
  ['HEXISTS', DATA, 'f'],
  ['HSCAN', COPY, '0', 'COUNT', '1'],
  ['UNLINK', COPY],
  ['SUBSCRIBE', CHANNEL],
];

function luaTable(calls: readonly (readonly Arg[])[]): string {
  const arg = (a: Arg) => (typeof a === 'number' ? String(a) : `'${a}'`);
  return `{ ${calls.map((call) => `{ ${call.map(arg).join(', ')} }`).join(', ')} }`;
}

/**
 * Lua: `refusedCalls(data, copies, channel)`, every call of `CALLS` the user may not make, as
 * text (`PUBLISH {kvs}:changes@0 m`), one per copy key for a call on a copy; empty when all may run.
 */
function refusedCallsLua(calls: readonly (readonly Arg[])[]): string {
  return `local function refusedCalls(data, copies, channel)
  local refused = {}
  for _, call in ipairs(${luaTable(calls)}) do
    local onCopy = false
    for _, a in ipairs(call) do if a == ${COPY} then onCopy = true end end
    local targets = onCopy and copies or { false }
    for _, copy in ipairs(targets) do
      local args = {}
      for j, a in ipairs(call) do
        if a == ${DATA} then args[j] = data elseif a == ${COPY} then args[j] = copy elseif a == ${CHANNEL} then args[j] = channel else args[j] = a end
      end
      if not redis.acl_check_cmd(unpack(args)) then refused[#refused + 1] = table.concat(args, ' ') end
    end
  end
  return refused
end
`;
}

/** For the batch script: the check of its own calls, run before its first write. */
export const SCRIPT_CALLS_CHECK_LUA = refusedCallsLua(SCRIPT_CALLS);

/**
 * The start-up probe: ARGV[1] the data hash, ARGV[2] a copy key of the form the store makes,
 * ARGV[3] the channel. Returns the refused calls. It declares no keys (the keys the real EVALSHA
 * declares are checked as one of its calls) and may not write, so it runs on a full Redis too.
 */
export const PROBE_SCRIPT = `#!lua flags=no-writes
${refusedCallsLua([...SCRIPT_CALLS, ...OTHER_CALLS])}
return refusedCalls(ARGV[1], { ARGV[2] }, ARGV[3])
`;
