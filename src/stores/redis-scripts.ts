/**
 * The Lua scripts RedisStore runs. Every decision that several processes could race on happens
 * inside one script, so Redis applies it atomically: no read-modify-write from the client.
 */

/*
 * An idempotency record is JSON: {s = 'p', f = fingerprint, t = token, l = lease end (Redis clock, ms)}
 * for a claim, {s = 'c', f = fingerprint, r = result, m = signature (optional)} for a result. The
 * scripts never replace or delete what they cannot read (not JSON, another Redis type, an unknown
 * state): RedisStore reports such a record as corrupt and the call fails closed.
 */

/**
 * KEYS[1] record; ARGV fingerprint, token, leaseMs. Claims the key when it holds nothing or a claim
 * past its lease (or a claim with neither lease end nor expiry, which would otherwise block the key
 * for ever). Returns {1} when claimed, {0, record, pttl, now} when a record stands (live or
 * unreadable), {-1, type} when the key holds another Redis type.
 */
export const CLAIM = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then
  local current = redis.call('GET', KEYS[1])
  local pttl = redis.call('PTTL', KEYS[1])
  local ok, record = pcall(cjson.decode, current)
  local lapsed = false
  if ok and type(record) == 'table' and record.s == 'p' and type(record.f) == 'string' and type(record.t) == 'string' then
    if record.l == nil then lapsed = pttl < 0 else lapsed = type(record.l) == 'number' and record.l <= now end
  end
  if not lapsed then return {0, current, pttl, now} end
elseif kind ~= 'none' then
  return {-1, kind}
end
local lease = tonumber(ARGV[3])
redis.call('SET', KEYS[1], cjson.encode({s = 'p', f = ARGV[1], t = ARGV[2], l = now + lease}), 'PX', lease)
return {1}
`;

/**
 * KEYS[1] record; ARGV token, fingerprint, result, ttlMs, signature ('' for none). Completes unless
 * another claim owns the key or a result is recorded. Returns 1 when written, 0 when left alone,
 * -1 when the key holds what the store cannot read (left alone too).
 */
export const COMPLETE = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then
  local ok, record = pcall(cjson.decode, redis.call('GET', KEYS[1]))
  if not ok or type(record) ~= 'table' or (record.s ~= 'p' and record.s ~= 'c') then return -1 end
  -- A lapsed claim taken over belongs to its new owner, and a recorded result stays.
  if record.s ~= 'p' or record.t ~= ARGV[1] then return 0 end
elseif kind ~= 'none' then
  return -1
end
local record = {s = 'c', f = ARGV[2], r = ARGV[3]}
if ARGV[5] ~= '' then record.m = ARGV[5] end
redis.call('SET', KEYS[1], cjson.encode(record), 'PX', ARGV[4])
return 1
`;

/**
 * KEYS[1] record; ARGV token. Deletes the claim if this token still holds it. Returns 1 when
 * deleted, 0 when left alone, -1 when the key holds what the store cannot read (left alone too).
 */
export const RELEASE = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return 0 end
if kind ~= 'string' then return -1 end
local ok, record = pcall(cjson.decode, redis.call('GET', KEYS[1]))
if not ok or type(record) ~= 'table' or (record.s ~= 'p' and record.s ~= 'c') then return -1 end
if record.s == 'p' and record.t == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The shared breaker. KEYS[1] state hash, KEYS[2] count-window list, KEYS[3] time-window bucket hash.
 * ARGV[1] operation, ARGV[2] now, ARGV[3] channel, ARGV[4] name, ARGV[5] settings (JSON), ARGV[6..] operation's own.
 * Replies {state, epoch, since, openUntil, openings, calls, failures, slowCalls, consecutive, granted, reason}.
 * Every transition bumps the epoch, clears the window and is published on the channel.
 * Half-open trial permits are leased: field pm holds at most halfOpenMax {token, lease end} pairs;
 * a permit past its lease end holds no slot, and its late settle counts nowhere.
 */
export const BREAKER = `
local h, list, buckets = KEYS[1], KEYS[2], KEYS[3]
local op, now, channel, name = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local cfg = cjson.decode(ARGV[5])

local s = {}
local raw = redis.call('HGETALL', h)
for i = 1, #raw, 2 do s[raw[i]] = raw[i + 1] end
local st = s.st or 'closed'
local ep = tonumber(s.ep or '0')
local si = tonumber(s.si or tostring(now))
local ou = tonumber(s.ou or '0')
local on = tonumber(s.on or '0')
local ts = tonumber(s.ts or '0')
local cf = tonumber(s.cf or '0')
local wc = tonumber(s.wc or '0')
local wf = tonumber(s.wf or '0')
local ws = tonumber(s.ws or '0')
local nb = tonumber(s.nb or '-1')
local granted = 0
local reason = ''

-- The live trial permits; lapsed ones are dropped here, so every operation sees only live ones.
local permits = {}
if s.pm then
  local ok, held = pcall(cjson.decode, s.pm)
  if ok and type(held) == 'table' then
    for i = 1, math.min(#held, cfg.halfOpenMax) do
      local p = held[i]
      if type(p) == 'table' and type(p[1]) == 'string' and type(p[2]) == 'number' and p[2] > now then permits[#permits + 1] = p end
    end
  end
end

local function take_permit(token)
  for i = 1, #permits do
    if permits[i][1] == token then
      table.remove(permits, i)
      return true
    end
  end
  return false
end

local function clear_window()
  wc, wf, ws, cf, ts, nb = 0, 0, 0, 0, 0, -1
  permits = {}
  redis.call('DEL', list, buckets)
end

local function transition(to, why)
  st = to
  ep = ep + 1
  si = now
  reason = why
  clear_window()
  if to == 'open' then
    on = on + 1
    local d = cfg.durations
    ou = now + d[math.min(on, #d)]
  elseif to == 'closed' then
    on = 0
  end
  redis.call('PUBLISH', channel, cjson.encode({n = name, st = st, ep = ep, si = si, ou = ou, on = on, why = why}))
end

local function advance_buckets()
  local current = math.floor(now / cfg.width)
  if current <= nb then return current end
  local steps = math.min(current - nb, cfg.buckets)
  if nb < 0 then steps = cfg.buckets end
  for i = 1, steps do
    local slot = (current - steps + i) % cfg.buckets
    local c = tonumber(redis.call('HGET', buckets, slot .. ':c') or '0')
    local f = tonumber(redis.call('HGET', buckets, slot .. ':f') or '0')
    local w = tonumber(redis.call('HGET', buckets, slot .. ':s') or '0')
    wc, wf, ws = wc - c, wf - f, ws - w
    redis.call('HDEL', buckets, slot .. ':c', slot .. ':f', slot .. ':s')
  end
  nb = current
  return current
end

local function record(failed, slow)
  if cfg.type == 'count' then
    if wc >= cfg.size then
      local evicted = tonumber(redis.call('LPOP', list))
      if evicted == 1 or evicted == 3 then wf = wf - 1 end
      if evicted >= 2 then ws = ws - 1 end
    else
      wc = wc + 1
    end
    local code = 0
    if failed then code = code + 1 end
    if slow then code = code + 2 end
    redis.call('RPUSH', list, code)
  else
    local slot = advance_buckets() % cfg.buckets
    redis.call('HINCRBY', buckets, slot .. ':c', 1)
    wc = wc + 1
    if failed then redis.call('HINCRBY', buckets, slot .. ':f', 1) end
    if slow then redis.call('HINCRBY', buckets, slot .. ':s', 1) end
  end
  if failed then wf = wf + 1; cf = cf + 1 else cf = 0 end
  if slow then ws = ws + 1 end
end

local function reason_to_open()
  if cfg.consecutive and cf >= cfg.consecutive then return cf .. ' consecutive failures (fleet)' end
  if wc < cfg.minimum then return nil end
  if cfg.threshold and wf / wc >= cfg.threshold then return 'failure rate ' .. wf .. '/' .. wc .. ' (fleet)' end
  if cfg.slowRate and ws / wc >= cfg.slowRate then return 'slow-call rate ' .. ws .. '/' .. wc .. ' (fleet)' end
  return nil
end

if op == 'record' then
  -- ARGV[6] epoch, ARGV[7] outcomes: one digit each, 0 success, 1 failure, 2 slow success, 3 slow failure
  if st == 'closed' and tonumber(ARGV[6]) == ep then
    local outcomes = ARGV[7]
    for i = 1, #outcomes do
      local code = tonumber(string.sub(outcomes, i, i))
      record(code == 1 or code == 3, code >= 2)
      local why = reason_to_open()
      if why then transition('open', why); break end
    end
  end
elseif op == 'acquire' then
  -- ARGV[6] the permit's token (at most 64 bytes, unique in the fleet), ARGV[7] its lease, ms
  if st == 'open' and now >= ou then transition('half-open', 'openDuration elapsed') end
  local token, lease = ARGV[6], tonumber(ARGV[7])
  if st == 'half-open' then
    if #permits + ts < cfg.halfOpenMax and token and #token <= 64 and lease and lease > 0 then
      permits[#permits + 1] = {token, now + lease}
      granted = 1
    end
  elseif st == 'closed' then
    granted = 1
  end
elseif op == 'release' then
  -- ARGV[6] token: the permit is given back unused
  if st == 'half-open' then take_permit(ARGV[6]) end
elseif op == 'settle' then
  -- ARGV[6] epoch, ARGV[7] 'success' | 'failure' | 'slow' | 'ignored', ARGV[8] token
  if st == 'half-open' and tonumber(ARGV[6]) == ep and take_permit(ARGV[8]) then
    local outcome = ARGV[7]
    if outcome == 'failure' then transition('open', 'a trial call failed (fleet)')
    elseif outcome == 'slow' then transition('open', 'a trial call was slow (fleet)')
    elseif outcome == 'success' then
      ts = ts + 1
      if ts >= cfg.halfOpenMax then transition('closed', 'all trial calls succeeded (fleet)') end
    end
  end
elseif op == 'isolate' then
  if st ~= 'isolated' then transition('isolated', 'isolated by hand') end
elseif op == 'reset' then
  if st ~= 'closed' then transition('closed', 'reset by hand') else clear_window() end
end

if cfg.type == 'time' and op == 'read' then advance_buckets() end
-- tr: the trial permits held, for someone reading the hash by hand.
local tr = #permits
local pm = '[]'
if tr > 0 then pm = cjson.encode(permits) end
redis.call('HSET', h, 'st', st, 'ep', ep, 'si', si, 'ou', ou, 'on', on, 'tr', tr, 'ts', ts, 'cf', cf, 'wc', wc, 'wf', wf, 'ws', ws, 'nb', nb, 'pm', pm)
return {st, ep, si, ou, on, wc, wf, ws, cf, granted, reason}
`;
