-- Hoopoe free-credit limiter: one atomic decision per request (jobs/types/freecredit.request.md).
-- The `freecredit.request` job runs exactly this script; services that must answer synchronously may EVAL it
-- too (jobs/examples/freecredit_request.py --direct). All times come in as arguments (the caller's clock), never
-- from Redis TIME. Every key carries the {freecredit} hash tag (one Redis Cluster slot).
--
-- KEYS[1] <ns>:{freecredit}:last:<user_id>           Unix time of the user's last grant; TTL cooldown + 3600 s
-- KEYS[2] <ns>:{freecredit}:month:<user_id>:<month>  grants in that month (<month> 1403-09 Persian or 2024-11
--                                                    Gregorian); TTL until the month ends + 1 day
-- KEYS[3] <ns>:{freecredit}:result:<request_id>      the answer (JSON); TTL ARGV[8]
-- KEYS[4] <ns>:{freecredit}:notify:<request_id>      list holding the answer for BLPOP: pushed when decided, and
--                                                    pushed again (one copy) by every replay; TTL ARGV[9]
-- ARGV[1] now, Unix seconds       ARGV[2] cooldown seconds (120)   ARGV[3] monthly cap (grants per month; 0 none)
-- ARGV[4] start of the next month, Unix seconds                    ARGV[5] amount to grant
-- ARGV[6] user_id                 ARGV[7] request_id               ARGV[8] result TTL s   ARGV[9] notify TTL s
--
-- Reply: {answer, replayed}, or an error reply `FREECREDIT …` when the request id's answer is another user's.
-- replayed = 1 when KEYS[3] already held an answer for this request id: that answer
-- is returned unchanged and nothing is counted again (a repeated request never grants twice), and it is put
-- back on KEYS[4] so a caller waiting there for a repeated request id gets it at once.
-- answer is JSON: {"status":"granted","amount":93,"month_used":1,...} or
-- {"status":"rejected","reason":"cooldown"|"monthly_limit","retry_after":<whole seconds>,...}; both also carry
-- user_id, request_id and at (ARGV[1]). retry_after is the wait until a request can succeed: until the cooldown
-- ends, or for monthly_limit until the next month (or the cooldown's end, when a grant just before the month's end
-- holds it past then). The cap counts grants, not requests; monthly_limit wins when both apply.
local existing = redis.call('GET', KEYS[3])
if existing then
  -- Another user's answer is not this request's: per-user sequence numbers as request ids ("1", "2") gave user B
  -- user A's grant, uncounted.
  if tostring(cjson.decode(existing).user_id) ~= ARGV[6] then
    return redis.error_reply('FREECREDIT request_id ' .. ARGV[7] .. ' was decided for another user: give each request its own id (a UUID)')
  end
  redis.call('DEL', KEYS[4])
  redis.call('LPUSH', KEYS[4], existing)
  redis.call('EXPIRE', KEYS[4], ARGV[9])
  return {existing, 1}
end
local now = tonumber(ARGV[1])
local cooldown = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local nextMonth = tonumber(ARGV[4])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local last = tonumber(redis.call('GET', KEYS[1]) or '')
local answer
if cap > 0 and used >= cap then  -- 0: no monthly cap (as GIFT_MONTHLY_LIMIT's 0), the cooldown alone
  local free = nextMonth
  if last and last + cooldown > free then free = last + cooldown end
  answer = {status = 'rejected', reason = 'monthly_limit', retry_after = math.max(1, math.ceil(free - now))}
elseif last and now < last + cooldown then
  answer = {status = 'rejected', reason = 'cooldown', retry_after = math.max(1, math.ceil(last + cooldown - now))}
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', math.ceil(cooldown) + 3600)
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], math.max(1, math.ceil(nextMonth - now)) + 86400)
  answer = {status = 'granted', amount = tonumber(ARGV[5]), month_used = used + 1}
end
answer.user_id = ARGV[6]
answer.request_id = ARGV[7]
answer.at = now
local json = cjson.encode(answer)
redis.call('SET', KEYS[3], json, 'EX', ARGV[8])
redis.call('LPUSH', KEYS[4], json)
redis.call('EXPIRE', KEYS[4], ARGV[9])
return {json, 0}
