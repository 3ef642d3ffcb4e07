-- Hoopoe low-credit reminders: what the scripts that read a stored threshold record share, put before each of them
-- (credit_save_threshold, credit_delete_threshold, credit_remember_email) by CreditThresholdStore.recordScript.

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
