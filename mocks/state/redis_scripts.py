"""The Redis store's Lua scripts: each read-modify-write of `mocks.state.redis` is one of these.

Every key a script touches carries the same `{namespace:api}` hash tag, so a script runs in one
slot (Redis Cluster). Scripts do no float arithmetic (Lua's `%` and `tostring` differ from
Python's): window starts and expiry thresholds are computed by the caller and passed as the
shortest text that round-trips, and scores come back as Redis prints them (exact).
"""

# The first line of a script that must run even when Redis is out of memory (maxmemory reached under
# `noeviction`, which refuses every other write): bookkeeping of bounded size that a request cannot
# do without (admission, fault counts) or that completes a change already made. Redis 7 and later.
ALLOW_OOM = "#!lua flags=allow-oom\n"
# A slice's key is the collection's slice base and the slice's own part. `mem` keeps each record's parts
# only (the base is the same for a whole collection, and most of a full key's length); a part starts
# with "[" and a full key (as kept before) with "{", so both read back.
_SLICE_NAME = """
local function slice_name(base, part)
  if string.sub(part, 1, 1) == '{' then return part end
  return base .. part
end
"""

# A record's place in the ordered index: its position (kept once given) and the slices it sits in.
# KEYS: pos, next, mem, colls; ARGV: key, collection, slices (JSON list: the base, then each slice's part)
_PLACE = _SLICE_NAME + """
local function place(key, collection, slices_json)
  local pos = redis.call('HGET', KEYS[1], key)
  if not pos then
    pos = redis.call('INCR', KEYS[2]) - 1
    redis.call('HSET', KEYS[1], key, pos)
  end
  local parts = cjson.decode(slices_json)
  local base = table.remove(parts, 1)
  local now_in, before = {}, {}
  for _, s in ipairs(parts) do now_in[slice_name(base, s)] = true end
  local old = redis.call('HGET', KEYS[3], key)
  if old then for _, s in ipairs(cjson.decode(old)) do before[slice_name(base, s)] = true end end
  for s in pairs(before) do if not now_in[s] then redis.call('ZREM', s, key) end end
  for s in pairs(now_in) do if not before[s] then redis.call('ZADD', s, pos, key) end end
  redis.call('HSET', KEYS[3], key, cjson.encode(parts))
  redis.call('SADD', KEYS[4], collection)
end
"""

# KEYS: pos, next, mem, colls, rec, keyidx; ARGV: key, collection, slices, record JSON, index JSON
# ({uniq key: value}) and then the uniq keys' names again as pairs value, uniq key
_INSERT = """
redis.call('HSET', KEYS[5], ARGV[1], ARGV[4])
if ARGV[5] ~= '{}' then redis.call('HSET', KEYS[6], ARGV[1], ARGV[5]) end  -- no unique fields: nothing to keep
for i = 6, #ARGV, 2 do redis.call('HSET', ARGV[i + 1], ARGV[i], ARGV[1]) end
place(ARGV[1], ARGV[2], ARGV[3])
"""
INSERT = _PLACE + _INSERT

# INSERT unless the slice (KEYS[7]) holds a record already: then that record's JSON, and nothing written.
PUT_FIRST = _PLACE + """
local first = redis.call('ZRANGE', KEYS[7], 0, 0)
if first[1] then
  local found = redis.call('HGET', KEYS[5], first[1])
  if found then return found end
end
""" + _INSERT

# Re-slot a record (an update, or a field indexed after records exist). KEYS as INSERT's first four, then rec.
# ARGV: key, collection, slices, record JSON ("" = keep the stored one, if any)
PLACE = _PLACE + """
if ARGV[4] ~= '' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[4])
elseif redis.call('HEXISTS', KEYS[5], ARGV[1]) == 0 then return 0 end
place(ARGV[1], ARGV[2], ARGV[3])
return 1
"""

# KEYS: pos, mem, rec, keyidx; ARGV: key, the collection's slice base. Returns the record JSON, or nil.
DELETE = _SLICE_NAME + """
local record = redis.call('HGET', KEYS[3], ARGV[1])
if not record then return nil end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
local slices = redis.call('HGET', KEYS[2], ARGV[1])
if slices then
  for _, s in ipairs(cjson.decode(slices)) do redis.call('ZREM', slice_name(ARGV[2], s), ARGV[1]) end
end
redis.call('HDEL', KEYS[2], ARGV[1])
local index = redis.call('HGET', KEYS[4], ARGV[1])
if index then
  for uniq, value in pairs(cjson.decode(index)) do
    if redis.call('HGET', uniq, value) == ARGV[1] then redis.call('HDEL', uniq, value) end
  end
end
redis.call('HDEL', KEYS[4], ARGV[1])
return record
"""

# KEYS: uniq, rec; ARGV: value
FIND = """
local key = redis.call('HGET', KEYS[1], ARGV[1])
if not key then return nil end
return redis.call('HGET', KEYS[2], key)
"""

# Keyed values whose keys come from clients (idempotency keys, issued tokens) expire on the mock clock.
# KEYS: val, ends. `ends` scores each stored key by its expiry; a write of such a key also forgets up to
# `sweep` keys that have expired, and scores again one whose value was since given a later expiry (or none).
_STORE_EXPIRING = """
local function store_expiring(key, entry, now, expires_at, sweep)
  redis.call('HSET', KEYS[1], key, entry)
  if expires_at ~= '' then redis.call('ZADD', KEYS[2], expires_at, key) end
  for _, passed in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, sweep)) do
    local stored = redis.call('HGET', KEYS[1], passed)
    local expires = stored and cjson.decode(stored)[2]
    if expires and expires ~= cjson.null and expires > now then
      redis.call('ZADD', KEYS[2], expires, passed)
    else
      if expires and expires ~= cjson.null then redis.call('HDEL', KEYS[1], passed) end
      redis.call('ZREM', KEYS[2], passed)
    end
  end
end
"""

# KEYS: val, ends; ARGV: key, entry JSON ([value, expires_at]), now, expires_at ('' for never), sweep.
# Returns the live entry, or nil once stored.
PUT_IF_ABSENT = _STORE_EXPIRING + """
local now = tonumber(ARGV[3])
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local expires = cjson.decode(current)[2]
  if expires == cjson.null or expires > now then return current end
end
store_expiring(ARGV[1], ARGV[2], now, ARGV[4], tonumber(ARGV[5]))
return nil
"""

# KEYS: val, ends; ARGV: key, entry JSON ([value, expires_at]), now, expires_at ('' for never), sweep.
WRITE_EXPIRING = _STORE_EXPIRING + """
store_expiring(ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]))
return 1
"""

# Compare-and-set of a keyed value. KEYS: val; ARGV: key, the expected fields (JSON object of strings,
# numbers, booleans: compared as decoded), the new entry JSON ([value, expires_at], stored as given).
# 1 if the held value is an object holding every expected field, and was replaced; else 0. It completes
# an idempotent request that has acted: a full Redis must not leave its key 'running' (allow-oom; the
# answer's size is bounded by the request's).
COMPLETE = ALLOW_OOM + """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local held = cjson.decode(current)[1]
if type(held) ~= 'table' then return 0 end
for field, wanted in pairs(cjson.decode(ARGV[2])) do
  if held[field] ~= wanted then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""

# Admission, all or nothing. KEYS: ids, ends, then one key per hit.
# ARGV: lease ms, sweep (how many expired windows to forget), then per hit: algorithm, limit,
# a (sliding: expiry threshold; fixed: window start), now, ends (the mock time after which the window,
# once counted in, holds no admission; '' for concurrency).
# `ends` scores every windowed key by that time: each admission forgets up to `sweep` keys whose windows
# have passed, so keys that come from client input (a path or header value) do not stay for ever. A
# concurrency key expires with its newest lease (real time, as leases are).
# Returns {admitted, per hit: used, base (sliding: oldest admission; concurrency: the lease id)}.
ADMIT = ALLOW_OOM + """
local t = redis.call('TIME')
local real_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = (#ARGV - 2) / 5
local used, oldest, admitted = {}, {}, 1
for i = 1, n do
  local key, algorithm, limit, a = KEYS[i + 2], ARGV[5*i - 2], tonumber(ARGV[5*i - 1]), ARGV[5*i]
  if algorithm == 'concurrency' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', real_ms)
    used[i] = redis.call('ZCARD', key)
  elseif algorithm == 'fixed' then
    local window = redis.call('HMGET', key, 'start', 'used')
    used[i] = (window[1] == a) and tonumber(window[2]) or 0
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', a)
    used[i] = redis.call('ZCARD', key)
  end
  if used[i] >= limit then admitted = 0 end
end
if admitted == 1 then
  for i = 1, n do
    local key, algorithm, a, now = KEYS[i + 2], ARGV[5*i - 2], ARGV[5*i], ARGV[5*i + 1]
    if algorithm == 'concurrency' then
      local lease = tostring(redis.call('INCR', KEYS[1]))
      redis.call('ZADD', key, real_ms + tonumber(ARGV[1]), lease)
      redis.call('PEXPIRE', key, tonumber(ARGV[1]))
      oldest[i] = lease
    elseif algorithm == 'fixed' then
      redis.call('HSET', key, 'start', a, 'used', used[i] + 1)
      redis.call('ZADD', KEYS[2], ARGV[5*i + 2], key)
    else
      redis.call('ZADD', key, now, now .. '#' .. redis.call('INCR', KEYS[1]))
      redis.call('ZADD', KEYS[2], ARGV[5*i + 2], key)
    end
    used[i] = used[i] + 1
  end
end
local out = {admitted}
for i = 1, n do
  if ARGV[5*i - 2] == 'sliding' then
    local first = redis.call('ZRANGE', KEYS[i + 2], 0, 0, 'WITHSCORES')
    oldest[i] = first[2] or ''
  end
  out[#out + 1] = used[i]
  out[#out + 1] = oldest[i] or ''
end
if n > 0 then  -- ARGV[6]: the first hit's now, the mock clock's reading
  local passed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[6], 'LIMIT', 0, tonumber(ARGV[2]))
  for _, key in ipairs(passed) do
    redis.call('UNLINK', key)
    redis.call('ZREM', KEYS[2], key)
  end
end
return out
"""
