-- promoteDue: move scheduled jobs whose run-at has come from delayed to ready.
-- Safe with any number of workers calling it at once: each id is removed from delayed and
-- pushed to ready in one atomic step, so it is promoted exactly once.
--
-- KEYS[1] delayed  zset   score = run-at (ms, Redis clock)
-- KEYS[2] ready    list   ready jobs
-- ARGV[1] job key prefix   ARGV[2] most jobs to move in one call
--
-- Returns {moved, ms until the next scheduled job (-1 when none), now (ms)}
local delayed, ready = KEYS[1], KEYS[2]
local prefix, limit = ARGV[1], tonumber(ARGV[2])

-- @include serverTime
local due = redis.call('ZRANGE', delayed, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
for _, id in ipairs(due) do
  redis.call('ZREM', delayed, id)
  local job = prefix .. id
  if redis.call('EXISTS', job) == 1 then
    redis.call('HSET', job, 'state', 'ready')
    if redis.call('HGET', job, 'priority') == 'high' then
      redis.call('RPUSH', ready, id)
    else
      redis.call('LPUSH', ready, id)
    end
  end
end
local nextDue = -1
local first = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
if first[2] then nextDue = math.max(0, tonumber(first[2]) - now) end
return {#due, nextDue, now}
