-- Hoopoe SMS ledger, sms_unmark_sending (run by SMSLedger.noteUnknownOutcome). Every key carries the {sms} hash tag.
--
-- Takes back a send-under-way mark (sms_mark_sending.lua) that too few replicas confirmed (REDIS_WAIT_REPLICAS): the
-- send it announced does not go, so the mark must neither count as an unknown outcome (two of those and the message
-- is sent no more through that provider) nor send the next run to the outbox for a send that never was.
-- Only this run's own mark, known by its provider and start time: a refused mark wrote nothing, and another run's
-- mark (or the count of an earlier lost answer) is not this run's to take back.
--
-- KEYS[1] `{sms}:msg:<id>` · ARGV[1] provider · ARGV[2] when the attempt began (Unix s, as the mark wrote it)
-- Returns 1 when taken back, 0 when the record holds no such mark (nothing changed).
local fields = redis.call('HMGET', KEYS[1], 'unknown_provider', 'unknown_since')
if fields[1] ~= ARGV[1] or fields[2] ~= ARGV[2] then return 0 end
redis.call('HINCRBY', KEYS[1], 'unknown_outcomes', -1)
redis.call('HDEL', KEYS[1], 'unknown_provider', 'unknown_since', 'unknown_template')
return 1
