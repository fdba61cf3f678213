--[[
notify-user: deliver one notification to one user, at most once, on the user's slot ({u:<id>}).
  KEYS[1] SET of every notification id ever delivered to the user (the "never twice" marker)
  KEYS[2] LIST inbox (JSON items, newest first)
  KEYS[3] SET of unread notification ids
  ARGV[1] notification id     ARGV[2] item JSON (must carry the same "id")     ARGV[3] inbox cap
Returns: {1, unread} when newly delivered, {0, unread} when the user already had it.
  Items trimmed off the end of the inbox leave the unread set too, so SCARD stays the unread count.
]]
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  return {0, redis.call('SCARD', KEYS[3])}
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
local cap = tonumber(ARGV[3])
if redis.call('LLEN', KEYS[2]) > cap then
  local dropped = redis.call('LRANGE', KEYS[2], cap, -1)
  for _, item in ipairs(dropped) do
    local ok, decoded = pcall(cjson.decode, item)
    if ok and decoded.id then redis.call('SREM', KEYS[3], decoded.id) end
  end
  redis.call('LTRIM', KEYS[2], 0, cap - 1)
end
return {1, redis.call('SCARD', KEYS[3])}
