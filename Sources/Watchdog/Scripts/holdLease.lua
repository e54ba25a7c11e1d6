-- holdLease: keep the watchdog's lease, take it when it is free, or give it up. One watchdog
-- of many is active; the others take over within the lease's time to live once it stops renewing.
--
-- KEYS[1] lease   string  the active holder's id, expiring after its time to live
-- ARGV[1] holder id   ARGV[2] time to live (ms)   ARGV[3] "hold" or "release"
--
-- Returns 1 when the caller holds the lease after the call (kept or taken), 0 when it does not
-- (another holds it, or it was released).
local lease, holder, ttl, mode = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('GET', lease)
if mode == 'release' then
  if current == holder then redis.call('DEL', lease) end
  return 0
end
if current == holder then
  redis.call('PEXPIRE', lease, ttl)
  return 1
end
if not current then
  redis.call('SET', lease, holder, 'PX', ttl)
  return 1
end
return 0
