-- Hoopoe SMS ledger, sms_mark_sending (run by SMSLedger.noteUnknownOutcome). Every key carries the {sms} hash tag.
--
-- The mark a send writes just before it goes (its outcome unknown until the answer), refused for a message a renewal,
-- deletion or gift use cancelled meanwhile, or that another run settled: the run checked the message when it started,
-- and a cancel between that check and a send (a slow first provider, then the fallback) was answered "cancelled"
-- while the SMS still went out. Checked in the same step as the mark, so a cancel sees either no mark (and the send
-- will not go) or the mark (and says the message may be going out).
--
-- KEYS[1] `{sms}:msg:<id>` · ARGV[1] provider ("" for none: counted only) · ARGV[2] when the attempt began (Unix s) ·
-- ARGV[3] template · ARGV[4] the record's TTL (s)
-- Returns the message's unknown outcomes with this one, or -1 when refused (nothing written).
local fields = redis.call('HMGET', KEYS[1], 'state', 'cancelled')
if fields[2] == '1' or (fields[1] and fields[1] ~= '') then return -1 end
local count = redis.call('HINCRBY', KEYS[1], 'unknown_outcomes', 1)
if ARGV[1] ~= '' then
  redis.call('HSET', KEYS[1], 'unknown_provider', ARGV[1], 'unknown_since', ARGV[2], 'unknown_template', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return count
