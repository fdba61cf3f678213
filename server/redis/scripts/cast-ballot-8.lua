--[[
cast-ballot: one ballot, atomically, on ONE poll shard's slot ({p:<id>.s<k>}). One EVALSHA per ballot:
refusals, the ledger entry, the open-count counters and the award queue all happen here.
  KEYS[1] shard state HASH (state, opensAt, closesAt in ms; written at publish, changed at close/finalise;
          awardBatch = the shard's award batch counter)
  KEYS[2] voters BITMAP (bit = floor(userId / S))
  KEYS[3] receipts HASH (userId -> receipt): read only, for ballots cast before it stopped being written.
          Never written now: the receipt is recomputed from (poll, user) anyway, and a small hash keeps
          insertion order, so its fields listed the voters in the order of the ledger (ballot secrecy).
  KEYS[4] tally HASH (_ballots, also the tally's version, plus the ARGV fields; layout in server/ballots/tally-fields.ts)
  KEYS[5] breakdown HASH (d:<district>, a:<ageBand>)
  KEYS[6] ballot ledger STREAM
  KEYS[7] award pending SET (user ids whose vote points are not yet awarded; a set keeps no voting order)
  KEYS[8] open-count HASH (refusals r:<why>, ballots per minute m:<minute>, respondent cells n:/c:)
  ARGV[1] bit index        ARGV[2] user id        ARGV[3] receipt (keyed HMAC of poll+user, from Node)
  ARGV[4] ledger tag v = SHA-256(receipt) (computed in Node: Redis Lua has no SHA-256; never the user id)
  ARGV[5] answers JSON     ARGV[6] district field  ARGV[7] age band field
  ARGV[8] '1' when the poll awards points (the voter joins the pending set), else '0'
  ARGV[9] respondent cell "<okrug>|<ageBand>|<gender>" ('' when the profile is incomplete)
  ARGV[10..] tally fields to increment by 1 (a:<q> and o:<q>:<o>)
Returns:
  {'ok', receipt, nowMs, batch} | {'already_voted', receipt} | {'poll_closed', nowMs} | {'poll_not_open', nowMs}
  batch: '0', or the shard's award batch number when this voter made the pending set non-empty (the
  caller then enqueues that batch's job; its id carries the number, so a running batch never swallows it)
  The clock is Redis TIME: the window is [opensAt, closesAt), whatever the lifecycle jobs did.
]]
local FIRST_FIELD = 10
local st = redis.call('HMGET', KEYS[1], 'state', 'opensAt', 'closesAt')
if redis.call('GETBIT', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[8], 'r:duplicate', 1)
  return {'already_voted', redis.call('HGET', KEYS[3], ARGV[2]) or ARGV[3]}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowStr = string.format('%.0f', now)
local state = st[1]
-- refusals are counted here, in the script that refuses them (no extra round trip)
local function refuse(code, field)
  redis.call('HINCRBY', KEYS[8], field, 1)
  return {code, nowStr}
end
if state == 'closed' or state == 'finalised' then return refuse('poll_closed', 'r:late') end
if state ~= 'published' or not st[2] or not st[3] then return refuse('poll_not_open', 'r:early') end
if now < tonumber(st[2]) then return refuse('poll_not_open', 'r:early') end
if now >= tonumber(st[3]) then return refuse('poll_closed', 'r:late') end

redis.call('SETBIT', KEYS[2], ARGV[1], 1)
redis.call('HINCRBY', KEYS[4], '_ballots', 1)
for i = FIRST_FIELD, #ARGV do
  redis.call('HINCRBY', KEYS[4], ARGV[i], 1)
end
redis.call('HINCRBY', KEYS[5], ARGV[6], 1)
redis.call('HINCRBY', KEYS[5], ARGV[7], 1)
redis.call('XADD', KEYS[6], '*', 'v', ARGV[4], 'a', ARGV[5], 't', nowStr)
-- open count: ballots per minute, and the respondent cell's ballots and tally fields (for raking)
redis.call('HINCRBY', KEYS[8], 'm:' .. string.format('%.0f', math.floor(now / 60000)), 1)
if ARGV[9] ~= '' then
  redis.call('HINCRBY', KEYS[8], 'n:' .. ARGV[9], 1)
  for i = FIRST_FIELD, #ARGV do
    redis.call('HINCRBY', KEYS[8], 'c:' .. ARGV[9] .. '|' .. ARGV[i], 1)
  end
end

-- points: queue the voter for the shard's next award batch
local batch = '0'
if ARGV[8] == '1' and redis.call('SADD', KEYS[7], ARGV[2]) == 1 and redis.call('SCARD', KEYS[7]) == 1 then
  batch = tostring(redis.call('HINCRBY', KEYS[1], 'awardBatch', 1))
end
return {'ok', ARGV[3], nowStr, batch}
