--[[
resident-cell: the cell a user is counted in for the eligible base, swapped atomically in the user's slot.
  KEYS[1] user HASH (district, birthYear, gender; `baseCell` = the cell the user is counted in now)
Returns {old, new}: '' for "not counted" (incomplete profile). The caller moves one count from old to new
in the residents' cells hash (another slot). Two racing updates each swap their own pair, so the moves
chain up (a -> b, then b -> c) and the counts stay right.
]]
local f = redis.call('HMGET', KEYS[1], 'id', 'district', 'birthYear', 'gender', 'baseCell')
if not f[1] then return {'', ''} end
local new = ''
if f[2] and f[2] ~= '' and f[3] and f[3] ~= '' and f[4] and f[4] ~= '' then
  new = f[2] .. '|' .. f[3] .. '|' .. f[4]
end
local old = f[5] or ''
if old ~= new then redis.call('HSET', KEYS[1], 'baseCell', new) end
return {old, new}
