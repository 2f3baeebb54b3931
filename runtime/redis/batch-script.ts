/**
 * The Lua script that applies one whole batch (its layout: protocol/batch-codec.ts) inside Redis, atomically.
 *
 *   KEYS[1]      the data hash
 *   KEYS[2..]    one fresh copy key per SHOW and per BACKUP, in batch order
 *   ARGV[1]      the change channel
 *   ARGV[2]      the largest store (pairs) a SHOW returns inline; above it, SHOW copies
 *   ARGV[3]      the copies' time to live, ms (a guard against leaks if the reader dies)
 *   ARGV[4]      the operations, packed by `packBatch` (one argument, not thousands: the
 *                client's cost per argument was most of a batch's time)
 *
 * Returns { results, copies }: `results` as the in-memory store's apply, except that a SHOW of
 * a store larger than ARGV[2] gives -1 and leaves its pairs in its copy key; `copies[j]` is the
 * number of pairs in copy key j (-1 for a SHOW answered inline, 0 when the store was empty and
 * no key was made).
 *
 * The packing: per operation its code (one byte); then, but for SHOW, its count (4 bytes, big
 * endian) and its strings, each as its length (2 bytes, big endian) and its bytes.
 *
 * Never a partial batch: Redis does not roll a script back, so the first pass unpacks and checks
 * the whole batch (and the data key's type, that no copy key exists, and that the Redis user may
 * make every call the second pass may make: runtime/redis/permissions.ts) before the second
 * changes anything; after that no call can fail. The `#!lua` line declares the script as one that may
 * write, so Redis refuses it whole when over `maxmemory` instead of stopping it half way.
 *
 * Nothing here sorts: Lua compares strings with strcoll, which follows the server's locale
 * (Redis calls setlocale(LC_COLLATE, "")), not bytes. Node sorts, by bytes.
 *
 * A change is published as one message: 'W' or 'D', the key's length in two bytes (big endian),
 * the key, then the value for 'W'.
 */
import { Op, type BusValue } from '../../protocol/batch-codec.js';
import { SCRIPT_CALLS_CHECK_LUA } from './permissions.js';

export const BATCH_SCRIPT = `#!lua
local data = KEYS[1]
local channel = ARGV[1]
local inlineMax = tonumber(ARGV[2])
local ttl = ARGV[3]
local packed = ARGV[4]
local size = #packed
local byte, sub, char = string.byte, string.sub, string.char

local kind = redis.call('TYPE', data)['ok']
if kind ~= 'hash' and kind ~= 'none' then
  return redis.error_reply('KVSREFUSED data key ' .. data .. ' holds a ' .. kind .. ', not a hash')
end
local ops, m = {}, 0
local present = {}
local copies = 0
local p = 1
while p <= size do
  local op = byte(packed, p)
  local at = p - 1
  p = p + 1
  m = m + 1
  ops[m] = op
  present[op] = true
  if op == 4 then
    copies = copies + 1
  else
    if p + 3 > size then return redis.error_reply('KVSREFUSED operation at byte ' .. at .. ': truncated') end
    local c1, c2, c3, c4 = byte(packed, p, p + 3)
    local c = ((c1 * 256 + c2) * 256 + c3) * 256 + c4
    p = p + 4
    m = m + 1
    ops[m] = c
    local width
    if op == 1 then
      width = 2 * c
    elseif op == 2 or op == 3 then
      width = c
    elseif op == 5 then
      width = 0
      copies = copies + 1
    else
      return redis.error_reply('KVSREFUSED operation at byte ' .. at .. ': unknown op ' .. op)
    end
    for j = 1, width do
      if p + 1 > size then return redis.error_reply('KVSREFUSED operation at byte ' .. at .. ': truncated') end
      local h, l = byte(packed, p, p + 1)
      local e = p + 1 + h * 256 + l
      if e > size then return redis.error_reply('KVSREFUSED operation at byte ' .. at .. ': truncated') end
      m = m + 1
      ops[m] = sub(packed, p + 2, e)
      p = e + 1
    end
  end
end
if copies ~= #KEYS - 1 then return redis.error_reply('KVSREFUSED ' .. copies .. ' copies, ' .. (#KEYS - 1) .. ' copy keys') end
${SCRIPT_CALLS_CHECK_LUA}local copyKeys = {}
for k = 2, #KEYS do copyKeys[k - 1] = KEYS[k] end
local refused = refusedCalls(present, data, copyKeys, channel)
if #refused > 0 then return redis.error_reply('KVSREFUSED the Redis user may not run ' .. table.concat(refused, ', ')) end
for k = 2, #KEYS do
  if redis.call('EXISTS', KEYS[k]) == 1 then return redis.error_reply('KVSREFUSED copy key ' .. KEYS[k] .. ' exists') end
end

local function len2(s)
  local l = #s
  return char(math.floor(l / 256), l % 256)
end

local results, sizes = {}, {}
local r, copy = 0, 0
local i = 1
while i <= m do
  local op = ops[i]
  if op == 4 then
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
    local c = ops[i + 1]
    i = i + 2
    if op == 1 then
      for j = i, i + 2 * c - 1, 2 do
        local k = ops[j]
        redis.call('HSET', data, k, ops[j + 1])
        redis.call('PUBLISH', channel, 'W' .. len2(k) .. k .. ops[j + 1])
      end
      i = i + 2 * c
    elseif op == 2 then
      for j = i, i + c - 1 do
        r = r + 1
        results[r] = redis.call('HGET', data, ops[j])
      end
      i = i + c
    elseif op == 3 then
      local at = r + 1
      r = r + 1
      local missing = 0
      for j = i, i + c - 1 do
        local k = ops[j]
        if redis.call('HDEL', data, k) == 1 then
          redis.call('PUBLISH', channel, 'D' .. len2(k) .. k)
        else
          missing = missing + 1
          r = r + 1
          results[r] = k
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

/** The longest key or value the packing carries. */
export const MAX_PACKED_STRING = 0xffff;

/**
 * Packs a checked batch (protocol/batch-codec.ts) for ARGV[4]: byte strings go in as their bytes
 * (latin1), so nothing is re-encoded. Throws on a string longer than MAX_PACKED_STRING.
 */
export function packBatch(ops: readonly BusValue[]): Buffer {
  let size = 0;
  for (let i = 0; i < ops.length; ) {
    const op = ops[i] as number;
    if (op === Op.Show) {
      size += 1;
      i += 1;
      continue;
    }
    const n = ops[i + 1] as number;
    const width = op === Op.Write ? 2 * n : op === Op.Backup ? 0 : n;
    size += 5;
    for (let j = i + 2; j < i + 2 + width; j++) {
      const length = (ops[j] as string).length;
      if (length > MAX_PACKED_STRING) throw new RangeError(`a string of ${length} bytes is longer than ${MAX_PACKED_STRING}`);
      size += 2 + length;
    }
    i += 2 + width;
  }
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < ops.length; ) {
    const op = ops[i] as number;
    buf[off++] = op;
    if (op === Op.Show) {
      i += 1;
      continue;
    }
    const n = ops[i + 1] as number;
    buf.writeUInt32BE(n, off);
    off += 4;
    const width = op === Op.Write ? 2 * n : op === Op.Backup ? 0 : n;
    for (let j = i + 2; j < i + 2 + width; j++) {
      const s = ops[j] as string;
      buf.writeUInt16BE(s.length, off);
      off += 2 + buf.write(s, off + 2, 'latin1');
    }
    i += 2 + width;
  }
  return buf;
}
