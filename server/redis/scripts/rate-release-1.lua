-- Give back one unit taken by rate-reserve-1.lua, only to the window it was taken from: once that window
-- has ended, the unit ended with it (giving it to the next window would allow one too many there).
-- A window left with no unit spent is removed, so a refused call leaves no trace (the next call opens one).
-- KEYS[1] the window counter
-- ARGV[1] the window's PEXPIRETIME as rate-reserve-1.lua returned it
-- returns 1 given back, 0 the window is gone
if redis.call('PEXPIRETIME', KEYS[1]) ~= tonumber(ARGV[1]) then return 0 end
if tonumber(redis.call('GET', KEYS[1]) or '0') <= 0 then return 0 end
if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
return 1
