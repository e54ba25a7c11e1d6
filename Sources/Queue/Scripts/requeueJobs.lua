-- requeueJobs: a worker hands back jobs it holds but will not finish: at shutdown, or orphans
-- (held after a claim whose reply was lost with the connection, so never started). They go to
-- the front of ready with their attempt given back (the attempt did not fail; it was stopped).
--
-- KEYS[1] held     hash   worker:<wid>:held of the worker handing back, id → fence
-- KEYS[2] ready    list   ready jobs
-- ARGV[1] job key prefix   ARGV[2..] pairs: id, fence
--
-- Returns how many were handed back. A job no longer held for that run is left alone (fencing,
-- as in completeJobs). The attempt is given back; the fence is not, so the next run's token is
-- new and an ack of this one that was still on its way is refused.
local held, ready = KEYS[1], KEYS[2]
local prefix = ARGV[1]
local count = 0
for i = 2, #ARGV, 2 do
  local id, fence = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', held, id) == fence then
    local job = prefix .. id
    redis.call('HDEL', held, id)
    redis.call('HINCRBY', job, 'attempt', -1)
    redis.call('HSET', job, 'state', 'ready')
    redis.call('HDEL', job, 'worker')
    redis.call('RPUSH', ready, id)
    count = count + 1
  end
end
return count
