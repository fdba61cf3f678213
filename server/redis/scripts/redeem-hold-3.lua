--[[
redeem-hold: step 1 of a redemption, on the user's slot {u:<id>}: debit the price as a hold, never
below zero, and record the redemption as pending. Idempotent per redemption id.
  KEYS[1] points account HASH (balance, earned)
  KEYS[2] user's redemptions HASH (id -> JSON)
  KEYS[3] points ledger LIST (JSON entries, newest first, capped)
  ARGV[1] redemption id   ARGV[2] price (integer > 0)   ARGV[3] redemption JSON (status pending)
  ARGV[4] ledger cap
Returns: {'ok', balance} debited now | {'exists', balance} already held | {'insufficient', balance}
]]
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance') or '0')
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {'exists', balance} end
local price = tonumber(ARGV[2])
if price <= 0 or balance < price then return {'insufficient', balance} end
balance = redis.call('HINCRBY', KEYS[1], 'balance', -price)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local t = redis.call('TIME')
local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('LPUSH', KEYS[3], cjson.encode({at = at, delta = -price, reason = 'redeem', ref = ARGV[1], balance = balance}))
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
return {'ok', balance}
