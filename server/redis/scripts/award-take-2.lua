--[[
award-take: the next batch of voters to award, on ONE poll shard's slot ({p:<id>.s<k>}).
  KEYS[1] award pending SET (user ids, written by the cast script)
  KEYS[2] award taken ZSET (user id -> time taken, ms): voters whose award is under way
  ARGV[1] how many to take from the pending set (0 = none)
  ARGV[2] also return taken voters with a time <= this (ms; '-1' = none): a crashed batch's voters
  ARGV[3] at most this many of those
Returns:
  {nowMs, userId, ...}: the older taken voters asked for (their time bumped to nowMs, so two recoveries
  do not overlap for long), then the voters popped from the pending set (now in the taken ZSET at nowMs)
  A voter leaves the taken ZSET only through award-done, after the award is made: a crash in between
  leaves it there for a re-run of the batch job or the safety net (the award itself is idempotent).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {string.format('%.0f', now)}
local upto = tonumber(ARGV[2])
if upto >= 0 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', upto, 'LIMIT', 0, tonumber(ARGV[3]))
  for i = 1, #old do
    redis.call('ZADD', KEYS[2], now, old[i])
    out[#out + 1] = old[i]
  end
end
local n = tonumber(ARGV[1])
if n > 0 then
  local popped = redis.call('SPOP', KEYS[1], n)
  for i = 1, #popped do
    redis.call('ZADD', KEYS[2], now, popped[i])
    out[#out + 1] = popped[i]
  end
end
return out
