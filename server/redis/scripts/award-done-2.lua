--[[
award-done: a batch's awards are made, on ONE poll shard's slot ({p:<id>.s<k>}).
  KEYS[1] awarded BITMAP (bit floor(userId / S) = award known made; the finalise sweep skips it)
  KEYS[2] award taken ZSET (award-take)
  ARGV[1] S (the poll's shard count)   ARGV[2..] user ids whose award is made
Returns: the number of user ids
]]
local s = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('SETBIT', KEYS[1], math.floor(tonumber(ARGV[i]) / s), 1)
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return #ARGV - 1
