-- Hoopoe low-credit reminders: what the scripts that read a stored threshold record share, put before each of them
-- (credit_save_threshold, credit_delete_threshold, credit_remember_email, credit_record_balance) by
-- CreditThresholdStore.recordScript.

-- The auth key a threshold record (its JSON, `{threshold, phone, first_name, auth_key?}`) names; nil when it names
-- none, or is not readable.
local function credit_auth_key(record)
  if not record then return nil end
  local ok, fields = pcall(cjson.decode, record)
  if ok and type(fields) == 'table' and type(fields.auth_key) == 'string' and fields.auth_key ~= '' then
    return fields.auth_key
  end
  return nil
end

-- Whether a sweep's answer about `key` still belongs to the user: one of the user's thresholds (`thresholds`, the
-- hash of their records) still names the key, and no threshold was saved with it since the sweep read its `mark`
-- (`marks`: auth_key_set; "" for none). The sweep reads Brevo over HTTP meanwhile; a threshold deleted, given another
-- key or saved again with this one makes the answer another account's, or stale.
local function credit_key_still_names(thresholds, marks, key, mark)
  if (redis.call('HGET', marks, key) or '') ~= mark then return false end
  for _, record in ipairs(redis.call('HVALS', thresholds)) do
    if credit_auth_key(record) == key then return true end
  end
  return false
end
