-- Fixed-window quota: take one unit only while the window is under its limit (a refused call takes nothing).
-- KEYS[1] the window counter (keys.rate(bucket, id)); the same kind of counter rate-limit-1.lua counts
-- ARGV[1] window length in ms
-- ARGV[2] the limit
-- returns {1 taken | 0 refused, count after the call, ms until the window resets,
--          the window's PEXPIRETIME, which names this window for rate-release-1.lua}
local limit = tonumber(ARGV[2])
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local taken = 0
if n < limit then
  n = redis.call('INCR', KEYS[1])
  taken = 1
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {taken, n, ttl, redis.call('PEXPIRETIME', KEYS[1])}
