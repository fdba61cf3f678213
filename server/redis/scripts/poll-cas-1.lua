--[[
poll-cas: compare-and-set of a poll hash's `state` (the poll hash or a shard state hash).
  KEYS[1] HASH with a `state` field
  ARGV[1] allowed current states, comma-separated; `none` matches a missing hash/state
  ARGV[2..] field, value pairs to HSET when allowed (include `state` to change it)
Returns: {1, previousState} when written, {0, currentState} when not ('' = missing)
]]
local cur = redis.call('HGET', KEYS[1], 'state')
local name = cur or 'none'
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == name then ok = true end
end
if not ok then return {0, cur or ''} end
if #ARGV >= 3 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
end
return {1, cur or ''}
