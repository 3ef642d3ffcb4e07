-- Hoopoe low-credit reminders, credit_release_silent (run by CreditThresholdStore). Every key carries the {credit} hash
-- tag.
--
-- Thresholds fired without an SMS whose carrier is gone (credit_evaluate.lua hands them back as 'orphaned'): when the
-- carrier's message never reached the user (cancelled, outdated, or stopped while it waited), they are re-armed
-- (`armed`, no reminder.rearmed: the balance did not come back), so the next evaluation fires them, the lowest with an
-- SMS; when it reached the user, or may have, it becomes their own last message (`<id>:last`), so they stay fired,
-- no longer waiting for a carrier, and a top-up re-arming one cancels it as any threshold's own. Either way `<id>:by`
-- goes. Only a threshold still as the evaluation saw it (fired, no SMS, `<id>:by` that message) is changed: one that
-- changed meanwhile (deleted, saved again and re-evaluated) is left as it is.
--
-- KEYS[1] state:<user> · ARGV[1] the gone carrier's message id · ARGV[2] '1' when it reached the user (or may have),
-- '0' when it never will · ARGV[3..] threshold ids
-- Returns how many were changed.
local changed = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[1], id) == 'fired' and redis.call('HGET', KEYS[1], id .. ':last') == ''
    and redis.call('HGET', KEYS[1], id .. ':by') == ARGV[1] then
    if ARGV[2] == '1' then
      redis.call('HSET', KEYS[1], id .. ':last', ARGV[1])
    else
      redis.call('HSET', KEYS[1], id, 'armed')
    end
    redis.call('HDEL', KEYS[1], id .. ':by')
    changed = changed + 1
  end
end
return changed
