-- Hoopoe gift-wheel limits: one gift a day and a monthly maximum per user (jobs/types/gift.granted.md).
-- `gift.granted` runs exactly this script to count a won gift; services EVAL it to ask "may this user spin?"
-- (check only) or to count a gift atomically as they award it (jobs/examples/gift_wheel.py). All times come in
-- as arguments (the caller's clock), never from Redis TIME. The key carries the {gifts} hash tag.
--
-- KEYS[1] <ns>:{gifts}:wheel:<user_id>   sorted set: member user_gift_id, score = when it was won (Unix s);
--                                        entries older than both windows are trimmed; TTL ARGV[9]
-- ARGV[1] now, Unix seconds
-- ARGV[2] start of the day window: now - 86400 (rolling) or the local midnight (calendar); gifts won at or
--         after it, and no later than as long after now (rolling) or before the next midnight (calendar), count
--         towards the daily limit
-- ARGV[3] "" for a rolling day, or the next local midnight (Unix s) for a calendar day: when the limit lifts
-- ARGV[4] start of the month (Unix s)    ARGV[5] start of the next month (Unix s): gifts won in
--         [ARGV[4], ARGV[5]) count towards the monthly limit
-- ARGV[6] daily limit (0 = none)         ARGV[7] monthly limit (0 = none)
-- ARGV[8] user_gift_id to count, or "" to only check
-- ARGV[9] TTL of KEYS[1] in seconds (longer than both windows); a longer one the key has is kept
--
-- Reply: {verdict, retry_after, day_count, month_count}
--   verdict "allowed"        check only: a gift may be won now (nothing written)
--           "recorded"       the gift is counted (the counts include it)
--           "duplicate"      this user_gift_id was counted before (idempotent; nothing changes)
--           "daily_limit"    refused; retry_after = whole seconds until the day limit lifts
--           "monthly_limit"  refused; retry_after = whole seconds until the next month, or until the day limit
--                            lifts when that is later (wins over daily_limit)
--   retry_after is 0 unless refused; the counts are the user's gifts in the day and month windows.
local now = tonumber(ARGV[1])
local dayStart = tonumber(ARGV[2])
local monthStart = tonumber(ARGV[4])
local monthEnd = tonumber(ARGV[5])
local daily = tonumber(ARGV[6])
local monthly = tonumber(ARGV[7])
local gift = ARGV[8]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. math.min(dayStart, monthStart))
-- Only the gifts of now's own windows: a gift counted late at the time it was won (gift.granted's won_at) must not be
-- refused for a gift won more than a day after it (counted to +inf, a gift granted 25 h late was refused for the
-- user's next day's gift), nor for one of the next month. The rolling day reaches as far after now as before it, both
-- ends included: two gifts exactly a day apart are refused whichever is counted first, as they were in order.
local dayEnd
if ARGV[3] ~= '' then dayEnd = '(' .. ARGV[3] else dayEnd = now + (now - dayStart) end
local dayCount = redis.call('ZCOUNT', KEYS[1], dayStart, dayEnd)
local monthCount = redis.call('ZCOUNT', KEYS[1], monthStart, '(' .. monthEnd)
if gift ~= '' and redis.call('ZSCORE', KEYS[1], gift) then
  return {'duplicate', 0, dayCount, monthCount}
end
-- When the day limit lifts (called only while it holds): the next local midnight, or the first whole second more
-- than a day after the gift whose ageing out brings the count under the limit (a gift at the window's very start still
-- counts: a caller that waited exactly a day was refused again).
local function dayLifts()
  if ARGV[3] ~= '' then return tonumber(ARGV[3]) end
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], dayStart, dayEnd, 'WITHSCORES', 'LIMIT', dayCount - daily, 1)
  return math.floor(tonumber(oldest[2]) + (now - dayStart)) + 1
end
local dayFull = daily > 0 and dayCount >= daily
if monthly > 0 and monthCount >= monthly then
  -- A gift won just before the month ends holds a rolling day's limit past the month's end.
  local lifts = monthEnd
  if dayFull then lifts = math.max(lifts, dayLifts()) end
  return {'monthly_limit', math.max(1, math.ceil(lifts - now)), dayCount, monthCount}
end
if dayFull then
  return {'daily_limit', math.max(1, math.ceil(dayLifts() - now)), dayCount, monthCount}
end
if gift == '' then
  return {'allowed', 0, dayCount, monthCount}
end
redis.call('ZADD', KEYS[1], now, gift)
-- Only ever lengthened: a gift counted late at the time it was won (gift.granted's won_at, last month) has a shorter
-- TTL than the gifts of this month the key holds, and would have dropped them two days later.
local ttl = tonumber(ARGV[9])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return {'recorded', 0, dayCount + 1, monthCount + 1}
