/**
 * The Lua script that applies one whole batch (protocol/bus.ts) inside Redis, atomically.
 *
 *   KEYS[1]      the data hash
 *   KEYS[2..]    one fresh copy key per SHOW and per BACKUP, in batch order
 *   ARGV[1]      the change channel
 *   ARGV[2]      the largest store (pairs) a SHOW returns inline; above it, SHOW copies
 *   ARGV[3]      the copies' time to live, ms (a guard against leaks if the reader dies)
 *   ARGV[4..]    the operations, flat as on the bus, numbers as decimal text
 *
 * Returns { results, copies }: `results` as the in-memory store's apply, except that a SHOW of
 * a store larger than ARGV[2] gives -1 and leaves its pairs in its copy key; `copies[j]` is the
 * number of pairs in copy key j (-1 for a SHOW answered inline, 0 when the store was empty and
 * no key was made).
 *
 * Never a partial batch: Redis does not roll a script back, so the first pass checks the whole
 * batch (and the data key's type, and that no copy key exists) before the second changes
 * anything; after that no call can fail. The `#!lua` line declares the script as one that may
 * write, so Redis refuses it whole when over `maxmemory` instead of stopping it half way.
 *
 * Nothing here sorts: Lua compares strings with strcoll, which follows the server's locale
 * (Redis calls setlocale(LC_COLLATE, "")), not bytes. Node sorts, by bytes.
 *
 * A change is published as one message: 'W' or 'D', the key's length in two bytes (big endian),
 * the key, then the value for 'W'.
 */
export const BATCH_SCRIPT = `#!lua
local data = KEYS[1]
local channel = ARGV[1]
local inlineMax = tonumber(ARGV[2])
local ttl = ARGV[3]
local n = #ARGV

local kind = redis.call('TYPE', data)['ok']
if kind ~= 'hash' and kind ~= 'none' then
  return redis.error_reply('KVSREFUSED data key ' .. data .. ' holds a ' .. kind .. ', not a hash')
end
local i = 4
local copies = 0
while i <= n do
  local op = ARGV[i]
  if op == '4' then
    copies = copies + 1
    i = i + 1
  else
    local c = tonumber(ARGV[i + 1])
    if c == nil or c < 0 or c ~= math.floor(c) then
      return redis.error_reply('KVSREFUSED operation at ' .. (i - 4) .. ': bad count')
    end
    local first, step, last
    if op == '1' then
      first, step, last = i + 2, 2, i + 1 + 2 * c
    elseif op == '2' or op == '3' then
      first, step, last = i + 2, 1, i + 1 + c
    elseif op == '5' then
      copies = copies + 1
      first, step, last = i + 2, 1, i + 1
    else
      return redis.error_reply('KVSREFUSED operation at ' .. (i - 4) .. ': unknown op')
    end
    if last > n then return redis.error_reply('KVSREFUSED operation at ' .. (i - 4) .. ': truncated') end
    for j = first, last, step do
      if #ARGV[j] > 65535 then return redis.error_reply('KVSREFUSED a key longer than 65535 bytes') end
    end
    i = last + 1
  end
end
if i ~= n + 1 then return redis.error_reply('KVSREFUSED batch truncated') end
if copies ~= #KEYS - 1 then return redis.error_reply('KVSREFUSED ' .. copies .. ' copies, ' .. (#KEYS - 1) .. ' copy keys') end
for k = 2, #KEYS do
  if redis.call('EXISTS', KEYS[k]) == 1 then return redis.error_reply('KVSREFUSED copy key ' .. KEYS[k] .. ' exists') end
end

local function len2(s)
  local l = #s
  return string.char(math.floor(l / 256), l % 256)
end

local results, sizes = {}, {}
local r, copy = 0, 0
i = 4
while i <= n do
  local op = ARGV[i]
  if op == '4' then
    copy = copy + 1
    if redis.call('HLEN', data) <= inlineMax then
      local all = redis.call('HGETALL', data)
      r = r + 1
      results[r] = #all
      for j = 1, #all do
        r = r + 1
        results[r] = all[j]
      end
      sizes[copy] = -1
    else
      redis.call('COPY', data, KEYS[copy + 1])
      redis.call('PEXPIRE', KEYS[copy + 1], ttl)
      r = r + 1
      results[r] = -1
      sizes[copy] = redis.call('HLEN', KEYS[copy + 1])
    end
    i = i + 1
  else
    local c = tonumber(ARGV[i + 1])
    i = i + 2
    if op == '1' then
      for j = i, i + 2 * c - 1, 2 do
        redis.call('HSET', data, ARGV[j], ARGV[j + 1])
        redis.call('PUBLISH', channel, 'W' .. len2(ARGV[j]) .. ARGV[j] .. ARGV[j + 1])
      end
      i = i + 2 * c
    elseif op == '2' then
      for j = i, i + c - 1 do
        r = r + 1
        results[r] = redis.call('HGET', data, ARGV[j])
      end
      i = i + c
    elseif op == '3' then
      local at = r + 1
      r = r + 1
      local missing = 0
      for j = i, i + c - 1 do
        if redis.call('HDEL', data, ARGV[j]) == 1 then
          redis.call('PUBLISH', channel, 'D' .. len2(ARGV[j]) .. ARGV[j])
        else
          missing = missing + 1
          r = r + 1
          results[r] = ARGV[j]
        end
      end
      results[at] = missing
      i = i + c
    else
      copy = copy + 1
      if redis.call('COPY', data, KEYS[copy + 1]) == 1 then
        redis.call('PEXPIRE', KEYS[copy + 1], ttl)
        sizes[copy] = redis.call('HLEN', KEYS[copy + 1])
      else
        sizes[copy] = 0
      end
    end
  end
end
return { results, sizes }
`;
