--[[
poll-delete-draft: delete a poll hash only while it is a draft (a published poll is never deleted).
  KEYS[1] poll HASH
Returns: {1, 'draft'} when deleted, {0, currentState} when not ('' = missing)
]]
local cur = redis.call('HGET', KEYS[1], 'state')
if cur ~= 'draft' then return {0, cur or ''} end
redis.call('DEL', KEYS[1])
return {1, cur}
