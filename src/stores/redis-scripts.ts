/**
 * The Lua scripts RedisStore runs. Every decision that several processes could race on happens
 * inside one script, so Redis applies it atomically: no read-modify-write from the client.
 */
import { BUCKETS } from '../runtime/budget/windowed-counts';

/*
 * An idempotency record is JSON: {s = 'p', f = fingerprint, t = token, l = lease end (Redis clock, ms)}
 * for a claim, {s = 'c', f = fingerprint, r = result, m = signature (optional)} for a result. The
 * scripts never replace or delete what they cannot read (not JSON, another Redis type, an unknown
 * state): RedisStore reports such a record as corrupt and the call fails closed.
 */

/** The time a script decides by: ARGV[n] when the store has a clock of its own (tests), else Redis's TIME. */
const NOW = (argument: string): string => `
local now = tonumber(${argument})
if not now then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
`;

/**
 * KEYS[1] record; ARGV fingerprint, token, leaseMs, now ('' for Redis's clock). Claims the key when
 * it holds nothing or a claim past its lease (or a claim with neither lease end nor expiry, which
 * would otherwise block the key for ever). Returns {1} when claimed, {0, record, pttl, now} when a
 * record stands (live or unreadable), {-1, type} when the key holds another Redis type.
 */
export const CLAIM = `${NOW('ARGV[4]')}
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
 * KEYS[1] record; ARGV token, leaseMs, now ('' for Redis's clock). Extends the claim `token` holds
 * to a lease end of now + leaseMs (and its expiry to leaseMs). Returns 1 when renewed, 0 when the
 * claim is no longer this token's (it lapsed and was taken over, or it is gone), -1 when the key
 * holds what the store cannot read (left alone).
 */
export const RENEW = `${NOW('ARGV[3]')}
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then return 0 end
if kind ~= 'string' then return -1 end
local ok, record = pcall(cjson.decode, redis.call('GET', KEYS[1]))
if not ok or type(record) ~= 'table' or (record.s ~= 'p' and record.s ~= 'c') then return -1 end
-- A claim past its lease end that nobody took over (one without expiry) is still this token's.
if record.s ~= 'p' or record.t ~= ARGV[1] then return 0 end
local lease = tonumber(ARGV[2])
record.l = now + lease
redis.call('SET', KEYS[1], cjson.encode(record), 'PX', lease)
return 1
`;

/** Buckets of a fleet retry budget's window, as a local budget has. */
export const BUDGET_SLOTS = BUCKETS;
/** A count window keeps at most this many batch aggregates: beyond it the two oldest merge into one. */
export const MAX_WINDOW_BATCHES = 8;
/** A breaker's keys expire this long (ms) after their last refresh (hourly while used), beyond any opening. */
export const BREAKER_IDLE_TTL_MS = 7 * 24 * 3_600_000;

/**
 * The shared breakers: one run handles a whole batch of entries, of any number of breakers.
 *
 * ARGV[1] now ('' for Redis's TIME), ARGV[2] channel, ARGV[3] reporter (the sending store's id), then
 * the entries, each `op, nkeys, nargs, args…`, its keys taken in order from KEYS. An op this script
 * does not know is answered {'unknown'} and skipped, so the format can grow (a fleet budget's counts,
 * say) without breaking the entries around it.
 *
 * A breaker entry has two keys. Its hash holds, in field `b`, everything a batch needs as packed
 * doubles (struct, read and written once a run: no per-field reads, no JSON): the state, the
 * settings as numbers, and the window: for a count window a ring of at most MAX_WINDOW_BATCHES
 * aggregates (calls, failures, slow calls) covering exactly the last `size` calls, the oldest trimmed
 * in proportion; for a time window one (calls, failures, slow) per bucket. The same hash keeps, for
 * whoever reads it by hand, st, ep, si, ou, on (written at each transition), the settings as sent
 * (cfg) and the trial permits (pm: at most halfOpenMaxCalls {token, lease end} pairs). The second
 * key, used only with a quorum, holds each reporter's weight (its failures and slow calls in the
 * window) and, under '@<slot>', who sent the bad calls of each window slot.
 *
 * Breaker args: name, epoch, settings digest (an integer), settings ('' once the hash holds them),
 * then the op's own:
 *   record  calls, failures, slow, lead (failures before the first success), trail (after the last), run (longest)
 *   acquire token (at most 64 bytes, unique in the fleet), lease (ms)
 *   settle  'success' | 'failure' | 'slow' | 'ignored', token
 *   release token
 *   read, isolate, reset
 * Settings: 'type,size,buckets,width,consecutive,threshold,minimum,slowRate,halfOpenMax,quorum,d1;d2;…'
 * (an empty field for a criterion not used), parsed only when the hash holds none or other ones.
 * A breaker entry is answered {state, epoch, since, openUntil, openings, calls, failures, slowCalls,
 * consecutive, granted, reason, flags}; flags: 1 the hash holds other settings (used as they are),
 * 2 it holds none (nothing was applied: send them), 4 a criterion was met without the quorum. The
 * reply's last element is the time decided by.
 *
 * A budget entry (op 'budget') has one key, a string of packed doubles: the window, its newest
 * bucket and totals, and the calls and retries started in each of its BUDGET_SLOTS buckets of
 * window / BUDGET_SLOTS ms (the script's clock). Args: name, window (ms), claim ('1': this
 * process's first batch, whose window replaces another), calls, retries (started since the
 * process's last batch, added to the current bucket). Answered {flags, window (text), newest
 * bucket, calls, retries, then (calls, retries) of each bucket from the newest back}; flags 1: the
 * key counts by another window (the one given is not used). It expires a window + 1 s after its
 * last batch.
 */
const FLEET_BODY = `${NOW('ARGV[1]')}
local channel, reporter = ARGV[2], ARGV[3]
local MAX_BATCHES, IDLE_TTL, REFRESH = ${MAX_WINDOW_BATCHES}, ${BREAKER_IDLE_TTL_MS}, 3600000
-- fv st ep si ou on ts cf wc wf ws nb head used xp cv ty sz nk wd cc th mi sr hm qu rq
local HEADER, HEADER_BYTES = '<' .. string.rep('d', 27), 27 * 8
local STATES = {[0] = 'closed', [1] = 'open', [2] = 'half-open', [3] = 'isolated'}
local CODES = {closed = 0, open = 1, ['half-open'] = 2, isolated = 3}

-- The breaker the current entry is about (entries run one after another): its keys and packed state.
local h, q, name
local fv, st, ep, si, ou, on, ts, cf, wc, wf, ws, nb, head, used, xp, cv, ty, sz, nk, wd, cc, th, mi, sr, hm, qu, rq
-- window: the window's slots as numbers (3 a slot: calls, failures, slow calls)
local window, blob, permits, reason
-- dirty: the packed state is written back; changed: a transition (the readable fields too)
local dirty, changed

local function split(text, sep)
  local parts = {}
  for part in string.gmatch(text .. sep, '([^' .. sep .. ']*)' .. sep) do parts[#parts + 1] = part end
  return parts
end

local function ttl()
  return IDLE_TTL + math.max(0, ou - now)
end

-- Window slot i (from 0): its calls, failures and slow calls are window[3i+1..3i+3].
local function get_slot(i)
  return window[3 * i + 1], window[3 * i + 2], window[3 * i + 3]
end
local function set_slot(i, c, f, s)
  window[3 * i + 1], window[3 * i + 2], window[3 * i + 3] = c, f, s
end
local function window_size()
  return (ty == 0 and MAX_BATCHES) or nk
end
-- struct formats by window size (the window's; the header's and the window's), built once a run
local FORMATS, FULL_FORMATS = {}, {}
local function format_of(slots)
  local format = FORMATS[slots]
  if not format then
    format = '<' .. string.rep('d', 3 * slots)
    FORMATS[slots], FULL_FORMATS[slots] = format, HEADER .. string.rep('d', 3 * slots)
  end
  return format, FULL_FORMATS[slots]
end
local function packed()
  local slots = window_size()
  local _, full = format_of(slots)
  return struct.pack(full, fv, st, ep, si, ou, on, ts, cf, wc, wf, ws, nb, head, used, xp, cv, ty, sz, nk, wd, cc, th, mi, sr,
    hm, qu, rq, unpack(window, 1, 3 * slots))
end

local function clear_window()
  wc, wf, ws, nb, head, used, rq, xp = 0, 0, 0, -1, 0, 0, 0, 0
  window = {}
  for i = 1, 3 * window_size() do window[i] = 0 end
  if qu > 1 then redis.call('DEL', q) end
end

-- Reporters (quorum only): the weight of each process's bad calls (failures and slow calls) in the window.
local function reporter_add(id, weight)
  if redis.call('HINCRBY', q, id, weight) == weight then
    rq = rq + 1
    redis.call('PEXPIRE', q, ttl())
  end
end
local function reporter_sub(id, weight)
  if weight > 0 and redis.call('HINCRBY', q, id, -weight) <= 0 then
    redis.call('HDEL', q, id)
    rq = rq - 1
  end
end
-- The reporters of slot i scaled to keep/total of it (keep 0: the slot empties).
local function scale_slot(i, keep, total)
  local field = '@' .. i
  local reps = redis.call('HGET', q, field)
  if not reps then return end
  local kept = {}
  for id, weight in string.gmatch(reps, '([^,=]+)=(%d+)') do
    local left = math.floor(tonumber(weight) * keep / total + 0.5)
    reporter_sub(id, tonumber(weight) - left)
    if left > 0 then kept[#kept + 1] = id .. '=' .. left end
  end
  if #kept == 0 then redis.call('HDEL', q, field) else redis.call('HSET', q, field, table.concat(kept, ',')) end
end
local function merge_slots(older, newer)
  local a, b = redis.call('HGET', q, '@' .. older), redis.call('HGET', q, '@' .. newer)
  if not a then return end
  redis.call('HDEL', q, '@' .. older)
  if not b then
    redis.call('HSET', q, '@' .. newer, a)
    return
  end
  local weights, order = {}, {}
  for _, reps in ipairs({a, b}) do
    for id, weight in string.gmatch(reps, '([^,=]+)=(%d+)') do
      if not weights[id] then
        order[#order + 1] = id
        weights[id] = 0
      end
      weights[id] = weights[id] + tonumber(weight)
    end
  end
  local merged = {}
  for _, id in ipairs(order) do merged[#merged + 1] = id .. '=' .. weights[id] end
  redis.call('HSET', q, '@' .. newer, table.concat(merged, ','))
end

-- A count window: exactly the last sz calls reported, as aggregates; the oldest is trimmed in proportion.
local function count_add(c, f, s)
  if used == MAX_BATCHES then
    local next = (head + 1) % MAX_BATCHES
    local ac, af, as = get_slot(head)
    local bc, bf, bs = get_slot(next)
    set_slot(next, ac + bc, af + bf, as + bs)
    set_slot(head, 0, 0, 0)
    if qu > 1 and af + as > 0 then merge_slots(head, next) end
    head, used = next, used - 1
  end
  local tail = (head + used) % MAX_BATCHES
  set_slot(tail, c, f, s)
  used = used + 1
  if qu > 1 and f + s > 0 then
    redis.call('HSET', q, '@' .. tail, reporter .. '=' .. (f + s))
    reporter_add(reporter, f + s)
  end
  wc, wf, ws = wc + c, wf + f, ws + s
  while wc > sz and used > 0 do
    local hc, hf, hs = get_slot(head)
    local excess = wc - sz
    if hc <= excess then
      wc, wf, ws = wc - hc, wf - hf, ws - hs
      if qu > 1 and hf + hs > 0 then scale_slot(head, 0, 1) end
      set_slot(head, 0, 0, 0)
      head, used = (head + 1) % MAX_BATCHES, used - 1
    else
      local keep = hc - excess
      local kf, ks = math.floor(hf * keep / hc + 0.5), math.floor(hs * keep / hc + 0.5)
      wc, wf, ws = sz, wf - (hf - kf), ws - (hs - ks)
      if qu > 1 and hf + hs > 0 then scale_slot(head, keep, hc) end
      set_slot(head, keep, kf, ks)
    end
  end
end

-- A time window: nk buckets of wd ms; a bucket that falls out is subtracted from the totals.
local function advance()
  local current = math.floor(now / wd)
  if current <= nb then return current end
  if nb >= 0 and current - nb >= nk then
    clear_window()
  elseif nb >= 0 then
    for i = nb + 1, current do
      local slot = i % nk
      local c, f, s = get_slot(slot)
      if c > 0 then
        wc, wf, ws = wc - c, wf - f, ws - s
        set_slot(slot, 0, 0, 0)
        if qu > 1 and f + s > 0 then
          local reps = redis.call('HGET', q, '@' .. slot)
          if reps then
            for id in string.gmatch(reps, '[^,]+') do reporter_sub(id, 1) end
            redis.call('HDEL', q, '@' .. slot)
          end
        end
      end
    end
  end
  nb, dirty = current, true
  return current
end
local function time_add(c, f, s)
  local slot = advance() % nk
  local bc, bf, bs = get_slot(slot)
  set_slot(slot, bc + c, bf + f, bs + s)
  wc, wf, ws = wc + c, wf + f, ws + s
  if qu > 1 and f + s > 0 then
    -- A reporter counts once for each bucket it sent bad calls in, until that bucket falls out.
    local reps = redis.call('HGET', q, '@' .. slot) or ''
    if not string.find(',' .. reps .. ',', ',' .. reporter .. ',', 1, true) then
      redis.call('HSET', q, '@' .. slot, (reps == '' and reporter) or (reps .. ',' .. reporter))
      reporter_add(reporter, 1)
    end
  end
end

local function load_permits()
  if permits then return end
  permits = {}
  local raw = redis.call('HGET', h, 'pm')
  if not raw or raw == '[]' then return end
  local ok, held = pcall(cjson.decode, raw)
  if not ok or type(held) ~= 'table' then return end
  -- Lapsed permits are dropped here, so every operation sees only live ones.
  for i = 1, math.min(#held, hm) do
    local p = held[i]
    if type(p) == 'table' and type(p[1]) == 'string' and type(p[2]) == 'number' and p[2] > now then permits[#permits + 1] = p end
  end
end
local function take_permit(token)
  load_permits()
  for i = 1, #permits do
    if permits[i][1] == token then
      table.remove(permits, i)
      return true
    end
  end
  return false
end

local function transition(to, why)
  st, ep, si, reason, cf = CODES[to], ep + 1, now, why, 0
  clear_window()
  if qu > 1 then redis.call('HDEL', h, 'rr') end
  permits, ts, changed, dirty = {}, 0, true, true
  if to == 'open' then
    on = on + 1
    local given = split(redis.call('HGET', h, 'cfg') or '', ',')
    local d = split(given[11] or '0', ';')
    ou = now + (tonumber(d[math.min(on, #d)]) or 0)
  elseif to == 'closed' then
    on = 0
  end
  redis.call('PUBLISH', channel, cjson.encode({n = name, st = to, ep = ep, si = si, ou = ou, on = on, why = why}))
end

-- The processes in the fleet's current run of failures, with id added (at most qu are kept: enough to decide).
local function with_reporter(list, id)
  local n = 0
  for other in string.gmatch(list, '[^,]+') do
    n = n + 1
    if other == id then return list, n end
  end
  if n >= qu then return list, n end
  return (list == '' and id) or (list .. ',' .. id), n + 1
end

local function record(c, f, s, lead, trail, run)
  dirty = true
  if ty == 0 then count_add(c, f, s) else time_add(c, f, s) end
  local why, short, runners = nil, false, ''
  if cc > 0 then
    -- The fleet's run goes on with this batch's leading failures; a run inside the batch is one process's.
    local joined = cf + lead
    if qu > 1 and (lead > 0 or cf > 0) then runners = redis.call('HGET', h, 'rr') or '' end
    if lead > 0 and joined >= cc then
      local _, from = with_reporter(runners, reporter)
      if from >= qu then why = joined .. ' consecutive failures (fleet)' else short = true end
    end
    if not why and run >= cc then
      if qu <= 1 then why = run .. ' consecutive failures (fleet)' else short = true end
    end
    if qu > 1 then
      if lead == c then redis.call('HSET', h, 'rr', (with_reporter(runners, reporter)))
      elseif trail > 0 or cf > 0 then redis.call('HSET', h, 'rr', (trail > 0 and reporter) or '') end
    end
  end
  if lead == c then cf = cf + c else cf = trail end
  if not why and wc > 0 and wc >= mi then
    local rate = nil
    if th > 0 and wf / wc >= th then rate = 'failure rate ' .. wf .. '/' .. wc
    elseif sr > 0 and ws / wc >= sr then rate = 'slow-call rate ' .. ws .. '/' .. wc end
    if rate then
      if qu <= 1 then why = rate .. ' (fleet)'
      elseif rq >= qu then why = rate .. ' from ' .. rq .. ' processes (fleet)'
      else short = true end
    end
  end
  if why then transition('open', why) end
  return short
end

local function breaker(op, a)
  name = ARGV[a]
  local epoch, given, cfg = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  local blob = redis.call('HGET', h, 'b')
  local flags, granted = 0, 0
  reason, dirty, changed, permits = '', false, false, nil
  if blob then
    fv, st, ep, si, ou, on, ts, cf, wc, wf, ws, nb, head, used, xp, cv, ty, sz, nk, wd, cc, th, mi, sr, hm, qu, rq = struct.unpack(HEADER, blob)
    window = {struct.unpack(format_of(window_size()), blob, HEADER_BYTES + 1)}
  end
  local stored = blob
  if not stored or cv ~= given then
    if cfg ~= '' then
      local p = split(cfg, ',')
      local nty, nsz, nnk = (p[1] == 'time' and 1) or 0, tonumber(p[2]), tonumber(p[3])
      if not stored then
        -- A first contact (or keys that expired): a state written by an older version is kept.
        local old = redis.call('HMGET', h, 'st', 'ep', 'si', 'ou', 'on')
        st, ep, si, ou, on = CODES[old[1]] or 0, tonumber(old[2]) or 0, tonumber(old[3]) or now, tonumber(old[4]) or 0, tonumber(old[5]) or 0
        ts, cf, xp, ty, sz, nk = 0, 0, 0, -1, -1, -1
      end
      local fresh = nty ~= ty or nsz ~= sz or nnk ~= nk
      fv, cv, ty, sz, nk, wd = 2, given, nty, nsz, nnk, tonumber(p[4])
      cc, th, mi = tonumber(p[5]) or -1, tonumber(p[6]) or -1, tonumber(p[7])
      sr, hm, qu = tonumber(p[8]) or -1, tonumber(p[9]), tonumber(p[10])
      -- Another window (or the first): what the old one held means nothing to it.
      if fresh then clear_window() end
      redis.call('HSET', h, 'cfg', cfg)
      dirty = true
    elseif stored then
      flags = 1
    else
      return {'closed', 0, now, 0, 0, 0, 0, 0, 0, 0, '', 2}
    end
  end

  if op == 'record' then
    if st == 0 and epoch == ep then
      local short = record(tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6]),
        tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8]), tonumber(ARGV[a + 9]))
      if short then flags = flags + 4 end
    end
  elseif op == 'acquire' then
    load_permits()
    if st == 1 and now >= ou then transition('half-open', 'openDuration elapsed') end
    local token, lease = ARGV[a + 4], tonumber(ARGV[a + 5])
    if st == 2 then
      if #permits + ts < hm and token and #token <= 64 and lease and lease > 0 then
        permits[#permits + 1] = {token, now + lease}
        granted = 1
      end
    elseif st == 0 then
      granted = 1
    end
  elseif op == 'release' then
    if st == 2 then take_permit(ARGV[a + 4]) end
  elseif op == 'settle' then
    if st == 2 and epoch == ep and take_permit(ARGV[a + 5]) then
      local outcome = ARGV[a + 4]
      dirty = true
      if outcome == 'failure' then transition('open', 'a trial call failed (fleet)')
      elseif outcome == 'slow' then transition('open', 'a trial call was slow (fleet)')
      elseif outcome == 'success' then
        ts = ts + 1
        if ts >= hm then transition('closed', 'all trial calls succeeded (fleet)') end
      end
    end
  elseif op == 'isolate' then
    if st ~= 3 then transition('isolated', 'isolated by hand') end
  elseif op == 'reset' then
    if st ~= 0 then
      transition('closed', 'reset by hand')
    else
      cf, dirty = 0, true
      clear_window()
    end
  elseif op == 'read' then
    if ty == 1 then advance() end
  end

  local refresh = xp == 0 or now - xp >= REFRESH
  if refresh then xp, dirty = now, true end
  if dirty then
    redis.call('HSET', h, 'b', packed())
  end
  if changed then redis.call('HSET', h, 'st', STATES[st], 'ep', ep, 'si', si, 'ou', ou, 'on', on) end
  if permits then
    -- tr: the trial permits held, for someone reading the hash by hand.
    local pm = '[]'
    if #permits > 0 then pm = cjson.encode(permits) end
    redis.call('HSET', h, 'tr', #permits, 'pm', pm)
  end
  if refresh or changed then
    -- Every key of a breaker expires once the fleet stops using it, but an isolation holds until reset.
    if st == 3 then
      redis.call('PERSIST', h)
    else
      redis.call('PEXPIRE', h, ttl())
      if qu > 1 then redis.call('PEXPIRE', q, ttl()) end
    end
  end
  return {STATES[st], ep, si, ou, on, wc, wf, ws, cf, granted, reason, flags}
end

-- A fleet retry budget: 10 buckets of window/10 ms on the script's clock, packed in one string key
-- (fv, window, newest bucket, calls, retries, then calls and retries per slot), expiring a window
-- after its last batch (by then every bucket has fallen out).
local BUDGET_SLOTS = ${BUDGET_SLOTS}
local BUDGET_FORMAT = '<' .. string.rep('d', 5 + 2 * BUDGET_SLOTS)
local function budget(key, a)
  local window, claim = tonumber(ARGV[a + 1]), ARGV[a + 2] == '1'
  local calls, retries = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local blob = redis.pcall('GET', key)
  if type(blob) == 'table' then return {'wrong-type'} end
  local b, flags = nil, 0
  if blob and #blob == (5 + 2 * BUDGET_SLOTS) * 8 then b = {struct.unpack(BUDGET_FORMAT, blob)} end
  if b and b[2] ~= window then
    -- Another window: a process's first batch writes its own, later ones count in the one written last.
    if claim then b = nil else flags = 1 end
  end
  if not b then
    b = {1, window, -1, 0, 0}
    for i = 1, 2 * BUDGET_SLOTS do b[5 + i] = 0 end
  end
  local width = b[2] / BUDGET_SLOTS
  local current, newest = math.floor(now / width), b[3]
  if newest < 0 or current - newest >= BUDGET_SLOTS then
    b[4], b[5] = 0, 0
    for i = 1, 2 * BUDGET_SLOTS do b[5 + i] = 0 end
  else
    for i = newest + 1, current do
      local at = 6 + 2 * (i % BUDGET_SLOTS)
      b[4], b[5], b[at], b[at + 1] = b[4] - b[at], b[5] - b[at + 1], 0, 0
    end
  end
  if current > newest then b[3] = current end
  local at = 6 + 2 * (b[3] % BUDGET_SLOTS)
  b[at], b[at + 1], b[4], b[5] = b[at] + calls, b[at + 1] + retries, b[4] + calls, b[5] + retries
  redis.call('SET', key, struct.pack(BUDGET_FORMAT, unpack(b, 1, 5 + 2 * BUDGET_SLOTS)), 'PX', math.ceil(b[2]) + 1000)
  local reply = {flags, tostring(b[2]), b[3], b[4], b[5]}
  for back = 0, BUDGET_SLOTS - 1 do
    local slot = 6 + 2 * ((b[3] - back) % BUDGET_SLOTS)
    reply[#reply + 1], reply[#reply + 2] = b[slot], b[slot + 1]
  end
  return reply
end

local BREAKER_OPS = {record = true, read = true, acquire = true, settle = true, release = true, isolate = true, reset = true}
local replies = {}
local K, cursor = KEYS_AND_CURSOR
local key = 1
while cursor <= #ARGV do
  local op, nkeys, nargs = ARGV[cursor], tonumber(ARGV[cursor + 1]), tonumber(ARGV[cursor + 2])
  if nkeys == 2 and BREAKER_OPS[op] then
    h, q = K[key], K[key + 1]
    replies[#replies + 1] = breaker(op, cursor + 3)
  elseif nkeys == 1 and op == 'budget' then
    replies[#replies + 1] = budget(K[key], cursor + 3)
  else
    replies[#replies + 1] = {'unknown'}
  end
  cursor, key = cursor + 3 + nargs, key + nkeys
end
replies[#replies + 1] = now
return replies
`;

/** FLEET as one script for the process: every entry's keys declared (one slot, or no Cluster). */
export const FLEET = FLEET_BODY.replace('KEYS_AND_CURSOR', 'KEYS, 4');

/**
 * FLEET for several breakers (and budgets) in different slots of one Cluster node: ARGV[4] is the
 * number of keys that follow, every entry's keys in order, then the entries. Only the first
 * entry's keys are declared (they route the script to the node); the others are reached under
 * `allow-cross-slot-keys` (Redis 7), which lets a script use keys of other slots on its own node.
 * Every key is touched before anything is written, so a key that is not on this node (a slot
 * moved, a map gone stale) fails the whole run with nothing applied, and the store sends the
 * entries one by one instead.
 */
export const FLEET_ON_NODE = `#!lua flags=allow-cross-slot-keys
${FLEET_BODY.replace(
  'local K, cursor = KEYS_AND_CURSOR',
  `local K, listed = {}, tonumber(ARGV[4])
for i = 1, listed do
  K[i] = ARGV[4 + i]
  redis.call('EXISTS', K[i])
end
local cursor = 5 + listed`,
)}`;
