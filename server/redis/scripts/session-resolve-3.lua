--[[
session-resolve: the live session of an id and its user, in one step on the user's slot {u:<id>}
(the session id carries the user id it was minted for: server/auth/session-id.ts).
  KEYS[1] session HASH (userId, createdAt, absoluteExpiresAt)
  KEYS[2] user HASH
  KEYS[3] the user's session index SET
  ARGV[1] now (ms, the server's clock)   ARGV[2] idle seconds   ARGV[3] session id   ARGV[4] user id
Returns:
  {0} when there is no such session for this user
  {1} when past its absolute expiry: the session is deleted and dropped from the index
  {2, createdAt, absoluteExpiresAt, <user hash as field, value, …>} when live: the idle TTL slid to
    max(1, min(idle, ceil((absoluteExpiresAt - now) / 1000))) seconds, never past the absolute expiry
]]
local row = redis.call('HMGET', KEYS[1], 'userId', 'createdAt', 'absoluteExpiresAt')
if row[1] ~= ARGV[4] then return {0} end
local now = tonumber(ARGV[1])
local abs = tonumber(row[3]) or 0
if abs <= now then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[3], ARGV[3])
  return {1}
end
local ttl = math.max(1, math.min(tonumber(ARGV[2]), math.ceil((abs - now) / 1000)))
redis.call('EXPIRE', KEYS[1], ttl)
local out = {2, row[2] or '', row[3]}
local user = redis.call('HGETALL', KEYS[2])
for i = 1, #user do out[#out + 1] = user[i] end
return out
