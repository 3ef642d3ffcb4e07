-- Hoopoe low-credit reminders, credit_evaluate (run by CreditThresholdStore). Every key carries the {credit} hash tag.
--
-- Compares one user's balance with each of their thresholds and flips the state atomically: an armed threshold
-- the balance is below fires (state `fired`, an SMS put in the outbox under a fresh message id); a fired one
-- the balance is at or above re-arms: state `rearming` (armed, its reminder.rearmed not written yet) until
-- credit_rearm_announced.lua makes it `armed`; until then every call hands it back as 'rearmed' again, so an event
-- write that failed is made by the next run.
--
-- A re-armed threshold hands back the message id of its last firing, for the caller to cancel in the SMS ledger:
-- an SMS quiet hours or the daily cap put off (or still waiting for its time) must not quote the low balance after
-- the user topped up.
--
-- KEYS[1] thresholds:<user> · KEYS[2] state:<user> · KEYS[3] balances · KEYS[4] outbox · ARGV[1] user ·
-- ARGV[2] now (domain Unix seconds), kept in the outbox entry as `fired_at`
-- Returns {'fired', threshold id, message id, ...} and {'rearmed', threshold id, last message id or ''} triples.
local balanceText = redis.call('HGET', KEYS[3], ARGV[1])
if not balanceText then return {} end
local balance = tonumber(balanceText)
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local id = all[i]
  local t = cjson.decode(all[i + 1])
  local state = redis.call('HGET', KEYS[2], id) or 'armed'
  if balance < tonumber(t.threshold) then
    if state ~= 'fired' then
      local n = redis.call('HINCRBY', KEYS[2], id .. ':n', 1)
      redis.call('HSET', KEYS[2], id, 'fired')
      local mid = 'reminder.low_credit:' .. ARGV[1] .. ':' .. id .. ':' .. n
      redis.call('HSET', KEYS[4], mid, cjson.encode({message_id = mid, user_id = ARGV[1], threshold_id = id,
        threshold = t.threshold, balance = balanceText, phone = t.phone, first_name = t.first_name, fired_at = ARGV[2]}))
      table.insert(out, 'fired'); table.insert(out, id); table.insert(out, mid)
    end
  elseif state ~= 'armed' then
    redis.call('HSET', KEYS[2], id, 'rearming')
    local n = redis.call('HGET', KEYS[2], id .. ':n')
    local last = n and ('reminder.low_credit:' .. ARGV[1] .. ':' .. id .. ':' .. n) or ''
    table.insert(out, 'rearmed'); table.insert(out, id); table.insert(out, last)
  end
end
return out
