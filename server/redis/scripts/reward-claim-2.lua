--[[
reward-claim: step 2 of a redemption, on the reward's slot {r:<id>}: take one unit of stock for a
held redemption, or cancel it. The decision is written once per redemption id and never changes, so
a late claim after a cancel (or a cancel after a sale) gets the first decision back.
  KEYS[1] reward HASH (price, stock, sold, active)
  KEYS[2] claims HASH (redemption id -> sold | cancelled)
  ARGV[1] redemption id   ARGV[2] mode: claim | cancel   ARGV[3] price the user was charged
Returns: {'sold'} | {'cancelled'} (the decision, now or before) |
         {'out_of_stock'} | {'inactive'} | {'price_changed'} | {'not_found'} (claim refused; recorded as cancelled)
]]
local prior = redis.call('HGET', KEYS[2], ARGV[1])
if prior then return {prior} end
if ARGV[2] == 'cancel' then
  redis.call('HSET', KEYS[2], ARGV[1], 'cancelled')
  return {'cancelled'}
end
local r = redis.call('HMGET', KEYS[1], 'price', 'stock', 'active')
local refusal = nil
if not r[1] then refusal = 'not_found'
elseif r[3] ~= '1' then refusal = 'inactive'
elseif r[1] ~= ARGV[3] then refusal = 'price_changed'
elseif tonumber(r[2]) <= 0 then refusal = 'out_of_stock' end
if refusal then
  redis.call('HSET', KEYS[2], ARGV[1], 'cancelled')
  return {refusal}
end
redis.call('HINCRBY', KEYS[1], 'stock', -1)
redis.call('HINCRBY', KEYS[1], 'sold', 1)
redis.call('HSET', KEYS[2], ARGV[1], 'sold')
return {'sold'}
