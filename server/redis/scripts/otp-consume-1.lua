-- Use up a phone's one-time code if it is still the one the caller verified (a newer code, or a
-- parallel request that already used it, makes this a no-op).
-- KEYS[1] the code hash (keys.otp(phone))
-- ARGV[1] the HMAC the caller matched
-- returns 1 when this call consumed the code, 0 otherwise
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
