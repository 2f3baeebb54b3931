/**
 * The Lua script that applies one whole batch inside Redis, atomically. It reads the batch's bytes
 * as the job worker wrote them and answers in the results layout the in-memory store answers in
 * (both in protocol/batch-codec.ts, whose `LUA_LAYOUT` gives the script its op codes and walk).
 *
 *   KEYS[1]      the data hash
 *   KEYS[2..]    one fresh copy key per SHOW and per BACKUP, in batch order
 *   ARGV[1]      the change channel
 *   ARGV[2]      the largest store (pairs) a SHOW returns inline; above it, SHOW copies
 *   ARGV[3]      the copies' time to live, ms (a guard against leaks if the reader dies)
 *   ARGV[4]      the batch's bytes (one argument, not thousands: the client's cost per argument
 *                was most of a batch's time)
 *   ARGV[5]      the change stream, or '' (a plain store: PUBLISH on ARGV[1])
 *   ARGV[6]      the stream's length cap (approximate: XADD MAXLEN ~)
 *   ARGV[7]      the run's record, or '' (a plain store keeps none)
 *   ARGV[8]      the batch's sequence number in its run
 *   ARGV[9]      how many of the run's last batches the record keeps (those its host has not
 *                seen confirmed, this one included)
 *   ARGV[10]     the record's time to live, ms
 *
 * A store that lives through failovers (runtime/redis/store.ts) appends each batch's changes to
 * the stream instead of publishing them (a stream is replicated with the data and read from where
 * a reader left off), and records the batch, its sequence number and its answer, in its run's
 * record, in the same script: after a failover the host reads the record on the new primary and
 * knows which of its batches were applied, with their answers, and resends only the others.
 *
 * Returns { segments, sizes }: the results' bytes, cut at each SHOW answered through a copy (a
 * SHOW of a store larger than ARGV[2]): Node reads that copy and puts its pairs between the
 * segments. `sizes[j]` is the number of pairs in copy key j (-1 for a SHOW answered inline, 0
 * when the store was empty and no key was made).
 *
 * Never a partial batch: Redis does not roll a script back, so nothing refusable runs after the
 * first write. Pass 1 only reads: it checks the whole batch (and the data key's type, that no copy
 * key exists, and that the Redis user may make every call pass 2 may make:
 * runtime/redis/permissions.ts) and works out every READ's and DELETE's result and every change, from one
 * HMGET of the batch's keys under the batch's own changes. Pass 2 PUBLISHes the changes, all in
 * one message and before any write (a script is atomic, so no one sees the store between the
 * two), then writes each changed key once, with its last value (one HSET and one HDEL), before
 * each SHOW and BACKUP, which see the store as it is at their place, and at the end. The
 * `#!lua` line declares the script as one that may write, so Redis refuses it whole when over
 * `maxmemory` instead of stopping it half way.
 *
 * The change message is itself a batch: the batch's WRITEs as they came, and for each DELETE the
 * keys it deleted (ChangeFeed in changes.ts reads it with the same walker).
 *
 * Nothing here sorts: Lua compares strings with strcoll, which follows the server's locale
 * (Redis calls setlocale(LC_COLLATE, "")), not bytes. Node sorts, by bytes.
 */
import { LUA_LAYOUT } from '../../protocol/batch-codec.js';
import { SCRIPT_CALLS_CHECK_LUA } from './permissions.js';

/** Keys (or pairs) per HMGET, HSET or HDEL: `unpack` stops at Lua's stack limit (8,000). */
const CHUNK = 1000;

export const BATCH_SCRIPT = `#!lua
${LUA_LAYOUT}
local data = KEYS[1]
local channel = ARGV[1]
local inlineMax = tonumber(ARGV[2])
local ttl = ARGV[3]
local batch = ARGV[4]
local stream, streamCap = ARGV[5], ARGV[6]
local run, seq, keep, runTtl = ARGV[7], ARGV[8], tonumber(ARGV[9]), ARGV[10]
local size = #batch
local byte, sub, concat, unpack = string.byte, string.sub, table.concat, unpack
local CHUNK = ${CHUNK}

local function refuse(why)
  return redis.error_reply('KVSREFUSED ' .. why)
end

-- The hash's values for keys[1..n] (false where missing).
local function hmget(keys, n)
  if n == 0 then return {} end
  if n <= CHUNK then return redis.call('HMGET', data, unpack(keys, 1, n)) end
  local out = {}
  for from = 1, n, CHUNK do
    local part = redis.call('HMGET', data, unpack(keys, from, math.min(n, from + CHUNK - 1)))
    for j = 1, #part do out[from + j - 1] = part[j] end
  end
  return out
end

-- One command over args[1..n] in chunks of whole pairs.
local function each(command, args, n)
  for from = 1, n, 2 * CHUNK do redis.call(command, data, unpack(args, from, math.min(n, from + 2 * CHUNK - 1))) end
end

local kind = redis.call('TYPE', data)['ok']
if kind ~= 'hash' and kind ~= 'none' then
  return refuse('data key ' .. data .. ' holds a ' .. kind .. ', not a hash')
end

-- Pass 1: reads only. The batch cut into its commands' tokens; on any fault, checked command by
-- command for the words (the same as checkBatch's).
local ops, args, ends = {}, {}, {}
-- The op codes the batch holds (the calls to check: permissions.ts).
local present = {}
local c, copies = 0, 0
local wanted, w = {}, 0
local function parse()
  local p = 1
  while p <= size do
    local op = byte(batch, p)
    c = c + 1
    ops[c] = op
    present[op] = true
    if op == SHOW then
      copies = copies + 1
      p = p + 1
    else
      if op == BACKUP then copies = copies + 1 end
      local t, k
      t, p = readTokens(batch, p + 5, TOKENS_PER[op] * count(batch, p + 1))
      args[c] = t
      for j = 1, #t do
        if t[j] == '' then error('empty string') end
      end
      if op == READ or op == DELETE then
        for j = 1, #t do wanted[w + j] = t[j] end
        w = w + #t
      end
    end
    ends[c] = p
  end
end
if not pcall(parse) then
  local p = 1
  while p <= size do
    local after, why = checkCommand(batch, p, size)
    if after == nil then return refuse(why) end
    p = after
  end
  return refuse('malformed batch')
end
if copies ~= #KEYS - 1 then return refuse(copies .. ' copies, ' .. (#KEYS - 1) .. ' copy keys') end
${SCRIPT_CALLS_CHECK_LUA}local copyKeys = {}
for k = 2, #KEYS do copyKeys[k - 1] = KEYS[k] end
local refused = refusedCalls(present, data, copyKeys, channel, stream, run)
if #refused > 0 then return refuse('the Redis user may not run ' .. concat(refused, ', ')) end
for k = 2, #KEYS do
  if redis.call('EXISTS', KEYS[k]) == 1 then return refuse('copy key ' .. KEYS[k] .. ' exists') end
end

-- Every READ's and DELETE's result and every change: what the hash holds before the batch (one
-- HMGET for the whole batch), under the batch's own changes so far (\`seen\`: a key's new value, or
-- false once deleted). Pass 2 writes each changed key once, with its last value: before a SHOW
-- or BACKUP, the changes since the one before (\`flushes\`); at the end, those since the last one
-- (\`pending\`, which is \`seen\` itself in a batch with neither).
local stored = hmget(wanted, w)
local res, r, s = {}, 0, 0
local changes, m = {}, 0
local seen, pending, flushes, shows = {}, nil, {}, {}
for i = 1, c do
  local op, t = ops[i], args[i]
  if op == WRITE then
    for j = 1, #t, 2 do
      seen[t[j]] = t[j + 1]
      if pending then pending[t[j]] = t[j + 1] end
    end
    m = m + 1
    changes[m] = sub(batch, i == 1 and 1 or ends[i - 1], ends[i] - 1)
  elseif op == READ then
    for j = 1, #t do
      s = s + 1
      local v = seen[t[j]]
      if v == nil then v = stored[s] end
      if not v then
        r = r + 1
        res[r] = MISSING_VALUE
      else
        if #v > MAX_TOKEN_BYTES then return refuse('key ' .. t[j] .. ' holds ' .. #v .. ' bytes, more than any command writes') end
        res[r + 1] = BYTE[#v]
        res[r + 2] = v
        r = r + 2
      end
    end
  elseif op == DELETE then
    local g, n = { BYTE[DELETE], '' }, 2
    for j = 1, #t do
      s = s + 1
      local key = t[j]
      local v = seen[key]
      if v == nil then v = stored[s] end
      r = r + 1
      if v then
        seen[key] = false
        if pending then pending[key] = false end
        g[n + 1] = BYTE[#key]
        g[n + 2] = key
        n = n + 2
        res[r] = DELETED
      else
        res[r] = WAS_MISSING
      end
    end
    if n > 2 then
      g[2] = u32((n - 2) / 2)
      m = m + 1
      changes[m] = concat(g)
    end
  else
    if pending then
      flushes[i] = pending
    else
      flushes[i] = {}
      for key, v in pairs(seen) do flushes[i][key] = v end
    end
    pending = {}
    if op == SHOW then
      r = r + 1
      res[r] = ''
      shows[i] = r
    end
  end
end

-- Pass 2: the changes, then the writes.
local function flush(changed)
  local sets, dels, ns, nd = {}, {}, 0, 0
  for key, v in pairs(changed) do
    if v then
      sets[ns + 1] = key
      sets[ns + 2] = v
      ns = ns + 2
    else
      nd = nd + 1
      dels[nd] = key
    end
  end
  if ns > 0 then each('HSET', sets, ns) end
  if nd > 0 then each('HDEL', dels, nd) end
end
if m > 0 then
  if stream == '' then
    redis.call('PUBLISH', channel, concat(changes))
  else
    redis.call('XADD', stream, 'MAXLEN', '~', streamCap, '*', 'c', concat(changes))
  end
end
local sizes, cuts, copy = {}, {}, 0
for i = 1, c do
  local op = ops[i]
  if op == SHOW or op == BACKUP then
    flush(flushes[i])
    copy = copy + 1
    local inline = nil
    if op == SHOW and redis.call('HLEN', data) <= inlineMax then
      local all = redis.call('HGETALL', data)
      local parts = { u32(#all / 2) }
      for j = 1, #all do
        -- A key or value no command wrote (too long for the layout): Node reads the copy and says so.
        if #all[j] > MAX_TOKEN_BYTES then
          parts = nil
          break
        end
        parts[j + 1] = BYTE[#all[j]] .. all[j]
      end
      if parts then inline = concat(parts) end
    end
    if inline then
      res[shows[i]] = inline
      sizes[copy] = -1
    else
      if redis.call('COPY', data, KEYS[copy + 1]) == 1 then
        redis.call('PEXPIRE', KEYS[copy + 1], ttl)
        sizes[copy] = redis.call('HLEN', KEYS[copy + 1])
      else
        sizes[copy] = 0
      end
      if op == SHOW then cuts[#cuts + 1] = shows[i] end
    end
  end
end
flush(pending or seen)
local segments, from = {}, 1
for j = 1, #cuts do
  segments[j] = concat(res, '', from, cuts[j] - 1)
  from = cuts[j] + 1
end
segments[#cuts + 1] = concat(res, '', from, r)
if run ~= '' then
  -- The record: "<seq> " then the answer as u32 counts and lengths (sizes + 1: a size may be -1).
  local entry = { seq, ' ', u32(#segments) }
  for j = 1, #segments do
    entry[#entry + 1] = u32(#segments[j])
    entry[#entry + 1] = segments[j]
  end
  entry[#entry + 1] = u32(#sizes)
  for j = 1, #sizes do entry[#entry + 1] = u32(sizes[j] + 1) end
  redis.call('RPUSH', run, concat(entry))
  redis.call('LTRIM', run, -keep, -1)
  redis.call('PEXPIRE', run, runTtl)
end
return { segments, sizes }
`;
