--[[
decision-step: publish a poll's decision or move it one step, atomically, on the poll's slot ({p:<id>}).
  KEYS[1] decision HASH (status, summary, body, reason, createdAt, updatedAt, answeredAt)
  KEYS[2] timeline LIST (JSON {seq, status, at, note}; seq = position + 1)
  KEYS[3] the poll's final snapshot (must exist: a decision only attaches to a finalised poll)
  ARGV[1] allowed current statuses, comma-separated (`none` = no decision yet)
  ARGV[2] new status     ARGV[3] now (ISO)     ARGV[4] timeline note ('' = none)
  ARGV[5..] extra field, value pairs to HSET
Returns: {1, seq} when written; {0, currentStatus} when the status does not allow it ('none' = no decision);
  {-1, ''} when the poll is not finalised.
]]
if redis.call('EXISTS', KEYS[3]) == 0 then return {-1, ''} end
local cur = redis.call('HGET', KEYS[1], 'status') or 'none'
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == cur then ok = true end
end
if not ok then return {0, cur} end
local seq = redis.call('LLEN', KEYS[2]) + 1
local note = cjson.null
if ARGV[4] ~= '' then note = ARGV[4] end
redis.call('RPUSH', KEYS[2], cjson.encode({seq = seq, status = ARGV[2], at = ARGV[3], note = note}))
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updatedAt', ARGV[3])
if cur == 'none' then redis.call('HSET', KEYS[1], 'createdAt', ARGV[3], 'answeredAt', ARGV[3]) end
if #ARGV >= 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 5)) end
return {1, seq}
