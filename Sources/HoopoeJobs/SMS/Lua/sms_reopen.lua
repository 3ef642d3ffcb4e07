-- Hoopoe SMS ledger, sms_reopen (run by SMSLedger.reopen). Every key carries the {sms} hash tag: one Redis Cluster slot.
--
-- Makes a message whose IPPanel bulk ended unsent sendable again, for the re-send job sms.delivery_poll planned: only
-- while it is still `sent`, names that job, and is not cancelled, checked in the same step as the change.
--
-- KEYS[1] `{sms}:msg:<id>` · ARGV[1] the re-send's job id
-- Returns 1 when reopened, 0 when a check failed (nothing changed).
local fields = redis.call('HMGET', KEYS[1], 'state', 'resend_job', 'cancelled')
if fields[1] ~= 'sent' or fields[2] ~= ARGV[1] or fields[3] == '1' then return 0 end
redis.call('HDEL', KEYS[1], 'state', 'provider', 'provider_ids', 'sent_at', 'delivery', 'raw_status', 'polls', 'polled_at',
  'announced', 'resend_job')
return 1
