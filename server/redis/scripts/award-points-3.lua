--[[
award-points: one participation award, at most once ever per (user, reason, ref), on the user's slot {u:<id>}.
  KEYS[1] points account HASH (balance, earned)
  KEYS[2] awards HASH (<reason>:<ref> -> points): the idempotency marker
  KEYS[3] points ledger LIST (JSON entries, newest first, capped)
  ARGV[1] marker field <reason>:<ref>   ARGV[2] points (integer >= 0)
  ARGV[3] reason                         ARGV[4] ref       ARGV[5] ledger cap
  ARGV[6] optional: the ledger time (ms); a vote award batch gives every voter its batch's time, so
          the ledger's times keep no voting order
Returns:
  {1, balance, earned} when awarded now | {0, balance, earned} when it had been awarded before
  The ledger entry is {at (ms, ARGV[6] or Redis TIME), delta, reason, ref, balance}.
]]
local pts = tonumber(ARGV[2])
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
  local cur = redis.call('HMGET', KEYS[1], 'balance', 'earned')
  return {0, tonumber(cur[1] or '0'), tonumber(cur[2] or '0')}
end
local balance = redis.call('HINCRBY', KEYS[1], 'balance', pts)
local earned = redis.call('HINCRBY', KEYS[1], 'earned', pts)
local at = tonumber(ARGV[6] or '')
if not at then
  local t = redis.call('TIME')
  at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('LPUSH', KEYS[3], cjson.encode({at = at, delta = pts, reason = ARGV[3], ref = ARGV[4], balance = balance}))
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
return {1, balance, earned}
