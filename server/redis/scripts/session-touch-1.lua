--[[
session-touch: read a session and slide its idle expiry in one step, on the session's slot.
  KEYS[1] session HASH (userId, createdAt, absoluteExpiresAt)
  ARGV[1] now (ms, the server's clock, as the caller checks it)   ARGV[2] idle seconds
Returns:
  {} when there is no such session (or it has no userId)
  {userId, createdAt, absoluteExpiresAt, 0} when past its absolute expiry: the session is deleted
    (the caller removes it from the user's session index, which lives on another slot)
  {userId, createdAt, absoluteExpiresAt, 1} when live: the idle TTL slid to
    max(1, min(idle, ceil((absoluteExpiresAt - now) / 1000))) seconds, never past the absolute expiry
]]
local row = redis.call('HMGET', KEYS[1], 'userId', 'createdAt', 'absoluteExpiresAt')
if not row[1] or row[1] == '' then return {} end
local now = tonumber(ARGV[1])
local abs = tonumber(row[3]) or 0
if abs <= now then
  redis.call('DEL', KEYS[1])
  return {row[1], row[2] or '', row[3] or '', 0}
end
local ttl = math.max(1, math.min(tonumber(ARGV[2]), math.ceil((abs - now) / 1000)))
redis.call('EXPIRE', KEYS[1], ttl)
return {row[1], row[2] or '', row[3] or '', 1}
