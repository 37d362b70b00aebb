"""Lua scripts of the Redis store's steering state and history (`mocks.state.redis_steering`).

Each is one atomic operation over keys of one `{namespace:api}` hash tag. Scripts never re-encode
JSON that holds floats (cjson writes 14 significant digits): the caller encodes, scripts store
strings as given, and attempts are appended as JSON fragments.
"""

from mocks.state.redis_scripts import ALLOW_OOM

# Reads of several keys at one instant: KEYS, and per key in ARGV its read ('get', 'zrange' or
# 'hgetall'; a missing string reads as ''). A script of reads, not MULTI/EXEC: Redis refuses every
# command queued in a transaction while it is out of memory, and runs a `no-writes` script then and
# on a read-only replica.
READ_TOGETHER = """#!lua flags=no-writes
local out = {}
for i, key in ipairs(KEYS) do
  if ARGV[i] == 'get' then out[i] = redis.call('GET', key) or ''
  elseif ARGV[i] == 'zrange' then out[i] = redis.call('ZRANGE', key, 0, -1)
  else out[i] = redis.call('HGETALL', key) end
end
return out
"""

# Limit settings: KEYS settings, baseline. Values are JSON [limit, window, enabled] made by Python, so
# equal settings are equal strings. Every script returns HGETALL settings (with "_version").
_SETTINGS = """
local function all() return redis.call('HGETALL', KEYS[1]) end
local function same()
  local a, b = redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])
  local want, n = {}, 0
  for i = 1, #b, 2 do want[b[i]] = b[i + 1]; n = n + 1 end
  for i = 1, #a, 2 do
    if a[i] ~= '_version' then
      if want[a[i]] ~= a[i + 1] then return false end
      n = n - 1
    end
  end
  return n == 0
end
"""

# ARGV: name, setting pairs. Settings and baseline for the policies not known yet.
DECLARE_LIMITS = _SETTINGS + """
local new = 0
for i = 1, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]); new = 1
  end
end
if new == 1 then redis.call('HINCRBY', KEYS[1], '_version', 1) end
return all()
"""

# ARGV: baseline (1/0), then name, setting pairs.
SET_LIMITS = _SETTINGS + """
if #ARGV > 1 then
  for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  redis.call('HINCRBY', KEYS[1], '_version', 1)
end
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[2])
  local a = all()
  for i = 1, #a, 2 do if a[i] ~= '_version' then redis.call('HSET', KEYS[2], a[i], a[i + 1]) end end
end
return all()
"""

RESTORE_LIMITS = _SETTINGS + """
if not same() then
  local version = redis.call('HGET', KEYS[1], '_version') or '0'
  redis.call('DEL', KEYS[1])
  local b = redis.call('HGETALL', KEYS[2])
  for i = 1, #b, 2 do redis.call('HSET', KEYS[1], b[i], b[i + 1]) end
  redis.call('HSET', KEYS[1], '_version', tonumber(version) + 1)
end
return all()
"""

# Faults. KEYS: faults (id -> [spec, seed text]), order (ZSET id by id), counts ("<id>:seen",
# "<id>:fired"), next (ids), version.
# ARGV: entry JSON, seen, fired. Returns the new id.
ADD_FAULT = """
local id = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], id, ARGV[1])
redis.call('ZADD', KEYS[2], id, id)
redis.call('HSET', KEYS[3], id .. ':seen', ARGV[2], id .. ':fired', ARGV[3])
redis.call('INCR', KEYS[5])
return id
"""

# ARGV: id ("" = every fault). Returns how many were cleared.
CLEAR_FAULTS = """
local cleared = 0
if ARGV[1] == '' then
  cleared = redis.call('HLEN', KEYS[1])
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
else
  cleared = redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1] .. ':seen', ARGV[1] .. ':fired')
end
if cleared > 0 then redis.call('INCR', KEYS[5]) end
return cleared
"""

# ARGV: id, seen, fired. 1 if the fault exists.
SET_FAULT_COUNTS = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[1] .. ':seen', ARGV[2], ARGV[1] .. ':fired', ARGV[3])
return 1
"""

# `mocks.state.changes.draw` in Lua 5.1 (numbers are doubles): 32-bit products through 16-bit halves,
# bit operations (LuaBitOp, signed results) brought back to [0, 2^32). Returns the 32-bit hash: the
# draw is it / 2^32.
DRAW = """
local U32 = 4294967296
local function u32(x) return x % U32 end
local function mul32(a, b)
  local ahi, alo = math.floor(a / 65536), a % 65536
  local bhi, blo = math.floor(b / 65536), b % 65536
  return ((ahi * blo + alo * bhi) % 65536 * 65536 + alo * blo) % U32
end
local function hash32(text)
  local h = 2166136261
  for i = 1, #text do h = mul32(u32(bit.bxor(h, string.byte(text, i))), 16777619) end
  h = u32(bit.bxor(h, bit.rshift(h, 16)))
  h = mul32(h, 2246822507)
  h = u32(bit.bxor(h, bit.rshift(h, 13)))
  h = mul32(h, 3266489909)
  return u32(bit.bxor(h, bit.rshift(h, 16)))
end
"""

# KEYS as ADD_FAULT's; ARGV: candidate ids in order. Returns {id, seen, fired} of the fault that
# fired, or nil. Check-and-count is this one script: `times` holds across every process.
STRIKE = ALLOW_OOM + DRAW + """
for _, id in ipairs(ARGV) do
  local stored = redis.call('HGET', KEYS[1], id)
  if stored then
    local entry = cjson.decode(stored)
    local spec, seed = entry[1], entry[2]
    local fired = tonumber(redis.call('HGET', KEYS[3], id .. ':fired') or '0')
    local times = spec['times']
    if times == nil or times == cjson.null or fired < times then
      local seen = redis.call('HINCRBY', KEYS[3], id .. ':seen', 1)
      local after = spec['after']
      if after == nil or after == cjson.null then after = 0 end
      if seen > after then
        local p = spec['probability']
        if p == nil or p == cjson.null then p = 1.0 end
        if p >= 1.0 or hash32(seed .. ':' .. seen) / U32 < p then
          fired = redis.call('HINCRBY', KEYS[3], id .. ':fired', 1)
          return {tonumber(id), seen, fired}
        end
      end
    end
  end
end
return nil
"""

# The journal: KEYS stream, seq. ARGV: keep, operation, status, principal, entry. The stream id is
# the entry's number, so `since` and `journal_forget` address entries directly.
JOURNAL_APPEND = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '=', ARGV[1], seq .. '-1',
           'op', ARGV[2], 'status', ARGV[3], 'principal', ARGV[4], 'e', ARGV[5])
return seq
"""

# Deliveries. KEYS: dlv (id -> static JSON), state, next (id -> next_at text), attempts (id -> JSON
# fragments joined by commas), due (ZSET next_at), lease (ZSET expiry, real ms), owner, order
# (ZSET enqueue number), done (ZSET completion number), counts, serial.
_FORGET = """
local function forget(id)
  for k = 1, 4 do redis.call('HDEL', KEYS[k], id) end
  redis.call('ZREM', KEYS[5], id); redis.call('ZREM', KEYS[6], id); redis.call('HDEL', KEYS[7], id)
  redis.call('ZREM', KEYS[8], id); redis.call('ZREM', KEYS[9], id)
end
"""

# ARGV: id, static JSON, next_at, capacity. The oldest completed delivery leaves first when full.
ENQUEUE = _FORGET + """
local id = ARGV[1]
redis.call('HSET', KEYS[1], id, ARGV[2]); redis.call('HSET', KEYS[2], id, 'pending')
redis.call('HSET', KEYS[3], id, ARGV[3]); redis.call('HSET', KEYS[4], id, '')
redis.call('ZADD', KEYS[5], ARGV[3], id)
redis.call('ZADD', KEYS[8], redis.call('INCR', KEYS[11]), id)
redis.call('HINCRBY', KEYS[10], 'queued', 1)
while redis.call('ZCARD', KEYS[8]) > tonumber(ARGV[4]) do
  local oldest = redis.call('ZRANGE', KEYS[9], 0, 0)[1]
  if not oldest then
    oldest = redis.call('ZRANGE', KEYS[8], 0, 0)[1]
    redis.call('HINCRBY', KEYS[10], 'evicted_pending', 1)
  end
  forget(oldest)
  redis.call('HINCRBY', KEYS[10], 'evicted', 1)
end
"""

# Redis' own clock, in milliseconds: leases end in real time, the same for every process.
_REAL_MS = """
local t = redis.call('TIME')
local real_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# ARGV: now (mock clock), worker, lease ms, limit. Leases each due delivery nobody holds (or whose
# holder's lease expired) to `worker`; returns per delivery: static JSON, next_at, attempts.
LEASE_DUE = _REAL_MS + """
local out, taken = {}, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[1])) do
  if taken >= tonumber(ARGV[4]) then break end
  local held = redis.call('ZSCORE', KEYS[6], id)
  if (not held or tonumber(held) <= real_ms) and redis.call('HGET', KEYS[2], id) == 'pending' then
    redis.call('ZADD', KEYS[6], real_ms + tonumber(ARGV[3]), id)
    redis.call('HSET', KEYS[7], id, ARGV[2])
    out[#out + 1] = redis.call('HGET', KEYS[1], id)
    out[#out + 1] = redis.call('HGET', KEYS[3], id)
    out[#out + 1] = redis.call('HGET', KEYS[4], id)
    taken = taken + 1
  end
end
return out
"""

# ARGV: id, worker, attempt JSON, outcome, next_at ("" = none). 0: the lease is not the worker's,
# or the delivery left the log.
FINISH_ATTEMPT = """
local id = ARGV[1]
if redis.call('HGET', KEYS[7], id) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[7], id); redis.call('ZREM', KEYS[6], id)
if redis.call('HGET', KEYS[2], id) ~= 'pending' then return 0 end
local before = redis.call('HGET', KEYS[4], id) or ''
redis.call('HSET', KEYS[4], id, before == '' and ARGV[3] or (before .. ',' .. ARGV[3]))
if ARGV[4] == 'retry' and ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[5], id); redis.call('HSET', KEYS[3], id, ARGV[5])
else
  redis.call('ZREM', KEYS[5], id); redis.call('HSET', KEYS[2], id, ARGV[4])
  redis.call('HINCRBY', KEYS[10], ARGV[4], 1)
  redis.call('ZADD', KEYS[9], redis.call('INCR', KEYS[11]), id)
end
return 1
"""

# KEYS: due, lease. The due time (as stored text) of the earliest delivery no live lease holds, or nil.
NEXT_DUE = _REAL_MS + """
local due = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for n = 1, #due, 2 do
  local held = redis.call('ZSCORE', KEYS[2], due[n])
  if not held or tonumber(held) <= real_ms then return due[n + 1] end
end
return nil
"""

# KEYS: lease. Milliseconds until the earliest live lease ends, or nil.
NEXT_LEASE_END = _REAL_MS + """
local first = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. real_ms, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if first[2] then return tonumber(first[2]) - real_ms end
return nil
"""

# ARGV: id, worker. The attempt goes back unstarted: still due at its time, now free to lease.
RELEASE_LEASE = """
if redis.call('HGET', KEYS[7], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[7], ARGV[1]); redis.call('ZREM', KEYS[6], ARGV[1])
end
"""
