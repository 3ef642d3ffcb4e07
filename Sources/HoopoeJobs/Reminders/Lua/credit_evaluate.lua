-- Hoopoe low-credit reminders, credit_evaluate (run by CreditThresholdStore). Every key carries the {credit} hash tag.
--
-- Compares one user's balance with each of their thresholds and flips the state atomically: an armed threshold
-- the balance is below fires (state `fired`); a fired one the balance is at or above re-arms: state `rearming` (armed,
-- its reminder.rearmed not written yet) until credit_rearm_announced.lua makes it `armed`; until then every call hands
-- it back as 'rearmed' again, so an event write that failed is made by the next run.
--
-- One SMS per drop, however many thresholds it passes: of the thresholds one call fires, only the lowest (the most
-- urgent; on a tie the smallest id) puts an SMS in the outbox, under a fresh message id. The higher ones fire without
-- one (their `<id>:last` is '', `<id>:by` the message id that carried the drop), and re-arm as any fired threshold
-- does when the balance is back at or above them. Before, a drop from 600 to 100 past thresholds 500 and 200 sent two
-- near-identical SMS in the same second.
--
-- When the threshold that carried the SMS re-arms, the ones fired silent with it that the balance is still below
-- fire again in the same call (the lowest with an SMS): its SMS was cancelled, or ended `outdated`, or told of a
-- balance the user has since left, and without this the higher ones stayed fired and silent. 600 → 100 at 23:00 (SMS
-- for 200, put off to 08:00; 500 silent), topped up to 300 at 02:00: 200 re-arms and its SMS is cancelled, 500 is
-- texted. A silent one without `<id>:by` (fired before that field existed) follows any re-arming threshold that had an
-- SMS; one fired before `<id>:last` existed always had its own SMS.
--
-- A silent one whose carrier is gone (deleted: a config change) has no re-arming to follow: it stayed fired and silent
-- until the balance rose past it, and the user was never texted for it if that SMS never went (cancelled, outdated, or
-- still waiting: a deleted threshold's message is not stopped by its deletion). So a call that finds one (fired, no SMS,
-- the balance still below it, its `<id>:by` naming a message no threshold of the user last fired with) changes nothing
-- and hands back every such one as 'orphaned' with that message id: the caller learns from the SMS ledger whether the
-- message reached the user (stopping it if it still waits), has credit_release_silent.lua re-arm them (it did not) or
-- give them that message as their own (it did, or may have), then calls again with ARGV[3] = '1' (no orphan check:
-- one whose release found it changed waits for the next run). Re-armed, they fire with the others this call crosses,
-- one SMS for the lowest: never a second SMS for one drop.
--
-- A re-armed threshold hands back the message id of its last firing ('' when it fired without an SMS), for the
-- caller to cancel in the SMS ledger: an SMS quiet hours or the daily cap put off (or still waiting for its time)
-- must not quote the low balance after the user topped up. `<id>:last` holds it; a threshold fired before that field
-- existed derives it from its counter `<id>:n`.
--
-- KEYS[1] thresholds:<user> · KEYS[2] state:<user> · KEYS[3] balances · KEYS[4] outbox · ARGV[1] user ·
-- ARGV[2] now (domain Unix seconds), kept in the outbox entry as `fired_at` · ARGV[3] '1' to skip the orphan check
-- Returns {'fired', threshold id, message id, ...} (message id '' for one fired without an SMS) and
-- {'rearmed', threshold id, last message id or ''} triples; or, changing nothing, only
-- {'orphaned', threshold id, its gone carrier's message id} triples.
local balanceText = redis.call('HGET', KEYS[3], ARGV[1])
if not balanceText then return {} end
local balance = tonumber(balanceText)
local state = {}
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do state[fields[i]] = fields[i + 1] end
local thresholds = {}
local carried = {} -- the message ids the user's thresholds last fired with
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local id = all[i]
  local t = cjson.decode(all[i + 1])
  local c = {id = id, value = tonumber(t.threshold), t = t, state = state[id] or 'armed', last = state[id .. ':last'], by = state[id .. ':by']}
  if c.last and c.last ~= '' then carried[c.last] = true end
  table.insert(thresholds, c)
end
if ARGV[3] ~= '1' then
  local orphans = {}
  for _, c in ipairs(thresholds) do
    if balance < c.value and c.state == 'fired' and c.last == '' and c.by and c.by ~= '' and not carried[c.by] then
      table.insert(orphans, 'orphaned'); table.insert(orphans, c.id); table.insert(orphans, c.by)
    end
  end
  if #orphans > 0 then return orphans end
end
local out = {}
local crossed = {}
local silent = {} -- fired without an SMS, the balance still below: fire again if their carrier re-arms now
local carriers = {} -- message ids of the thresholds re-armed in this call that had an SMS
local anyCarrier = false
for _, c in ipairs(thresholds) do
  local id = c.id
  if balance < c.value then
    if c.state ~= 'fired' then
      table.insert(crossed, c)
    elseif c.last == '' then
      table.insert(silent, c)
    end
  elseif c.state ~= 'armed' then
    redis.call('HSET', KEYS[2], id, 'rearming')
    local last = c.last
    if not last then
      local n = state[id .. ':n']
      last = n and ('reminder.low_credit:' .. ARGV[1] .. ':' .. id .. ':' .. n) or ''
    end
    -- Only the first call that re-arms it (state `fired`): a `rearming` one handed back again has been followed.
    if c.state == 'fired' and last ~= '' then carriers[last] = true; anyCarrier = true end
    table.insert(out, 'rearmed'); table.insert(out, id); table.insert(out, last)
  end
end
for _, c in ipairs(silent) do
  if (c.by and carriers[c.by]) or (not c.by and anyCarrier) then table.insert(crossed, c) end
end
table.sort(crossed, function(a, b)
  if a.value ~= b.value then return a.value < b.value end
  return a.id < b.id
end)
for k, c in ipairs(crossed) do
  redis.call('HSET', KEYS[2], c.id, 'fired')
  local mid = ''
  if k == 1 then
    local n = redis.call('HINCRBY', KEYS[2], c.id .. ':n', 1)
    mid = 'reminder.low_credit:' .. ARGV[1] .. ':' .. c.id .. ':' .. n
    c.mid = mid
    local t = c.t
    redis.call('HSET', KEYS[4], mid, cjson.encode({message_id = mid, user_id = ARGV[1], threshold_id = c.id,
      threshold = t.threshold, balance = balanceText, phone = t.phone, first_name = t.first_name, fired_at = ARGV[2]}))
  end
  redis.call('HSET', KEYS[2], c.id .. ':last', mid)
  if k == 1 then redis.call('HDEL', KEYS[2], c.id .. ':by') else redis.call('HSET', KEYS[2], c.id .. ':by', crossed[1].mid) end
  table.insert(out, 'fired'); table.insert(out, c.id); table.insert(out, mid)
end
return out
