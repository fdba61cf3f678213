-- Fixed-window rate limit: count one hit in the current window.
-- KEYS[1] the window counter (keys.rate(bucket, id))
-- ARGV[1] window length in ms
-- returns {count after this hit, ms until the window resets}
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
