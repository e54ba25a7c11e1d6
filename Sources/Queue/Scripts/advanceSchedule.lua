-- advanceSchedule: record a periodic schedule's progress, only ever forward (several workers
-- enqueue the same ticks; a slow one must not move the mark back).
--
-- KEYS[1] cron    string  the last tick enqueued (unix ms)
-- ARGV[1] tick    the newest tick just enqueued (unix ms)
--
-- Returns 1 when the mark moved, 0 when it already was at or past the tick.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
