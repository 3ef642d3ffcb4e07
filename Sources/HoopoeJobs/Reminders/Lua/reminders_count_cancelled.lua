-- Hoopoe expiration reminders, reminders_count_cancelled (run by SubscriptionStore). Every key carries the {reminders}
-- hash tag.
--
-- Adds the jobs a subscription.upsert or subscription.delete run cancelled to what its record keeps (the subscription's
-- upsert_cancelled, the delete mark's cancelled), while the record names that job: the same job run again (its event
-- write failed) finds its cancels forgotten, and announces the count kept here.
--
-- KEYS[1] sub:<user> or deleted:<user> · ARGV[1] the job field · ARGV[2] job id · ARGV[3] the count field · ARGV[4] n
-- Returns the count kept, or -1 when the record names another job (or none).
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
return redis.call('HINCRBY', KEYS[1], ARGV[3], ARGV[4])
