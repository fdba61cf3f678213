-- Spend one verification attempt on a phone's one-time code, atomically (two parallel wrong guesses
-- can never both slip under the limit). The code's hash is compared by the caller in constant time.
-- KEYS[1] the code hash (keys.otp(phone)): fields h (HMAC of the code), left (attempts left)
-- returns {-1, 0}           no live code (expired, used, or never sent)
--         {-2, pttl}        no attempts left (locked until the key expires)
--         {left, pttl, h}   one attempt spent; `left` attempts remain after this one
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return {-1, 0} end
local ttl = redis.call('PTTL', KEYS[1])
local left = tonumber(redis.call('HGET', KEYS[1], 'left') or '0')
if left <= 0 then return {-2, ttl} end
left = redis.call('HINCRBY', KEYS[1], 'left', -1)
return {left, ttl, h}
