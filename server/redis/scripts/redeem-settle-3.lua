--[[
redeem-settle: step 3 of a redemption, on the user's slot {u:<id>}: a pending redemption becomes
done (the stock step sold a unit: store the resident's code) or refunded (it did not: the hold goes
back to the balance). Idempotent: a redemption that is no longer pending is left as it is.
  KEYS[1] points account HASH   KEYS[2] user's redemptions HASH   KEYS[3] points ledger LIST
  ARGV[1] redemption id   ARGV[2] outcome: sold | refund   ARGV[3] code (for sold)   ARGV[4] ledger cap
Returns: {status, balance} with status done | refunded (now or before) | none (no such redemption)
]]
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance') or '0')
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return {'none', balance} end
local r = cjson.decode(raw)
if r.status ~= 'pending' then return {r.status, balance} end
if ARGV[2] == 'sold' then
  r.status = 'done'
  r.code = ARGV[3]
  redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(r))
  return {'done', balance}
end
balance = redis.call('HINCRBY', KEYS[1], 'balance', r.price)
r.status = 'refunded'
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(r))
local t = redis.call('TIME')
local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('LPUSH', KEYS[3], cjson.encode({at = at, delta = r.price, reason = 'refund', ref = ARGV[1], balance = balance}))
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
return {'refunded', balance}
