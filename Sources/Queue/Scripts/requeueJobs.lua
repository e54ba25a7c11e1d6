-- requeueJobs: a worker shutting down hands back jobs it holds but will not finish. They go to
-- the front of ready with their attempt given back (the attempt did not fail; it was stopped).
--
-- KEYS[1] active   list   worker:<wid>:active of the worker handing back
-- KEYS[2] ready    list   ready jobs
-- ARGV[1] job key prefix   ARGV[2] worker id   ARGV[3..] pairs: id, attempt
--
-- Also used to rescue orphans of a live worker: ids in its active list that it is not running
-- (a claim whose reply was lost with the connection). Such an id may still be in state ready
-- (moved by BLMOVE, never marked); it goes back without touching its attempt.
--
-- Returns how many were handed back. A job no longer held at that attempt is left alone
-- (fencing, as in completeJob).
local active, ready = KEYS[1], KEYS[2]
local prefix, worker = ARGV[1], ARGV[2]
local count = 0
for i = 3, #ARGV, 2 do
  local id, attempt = ARGV[i], ARGV[i + 1]
  local job = prefix .. id
  local f = redis.call('HMGET', job, 'attempt', 'worker', 'state')
  if f[1] == attempt and f[2] == worker and f[3] == 'active' and redis.call('LREM', active, -1, id) == 1 then
    redis.call('HINCRBY', job, 'attempt', -1)
    redis.call('HSET', job, 'state', 'ready')
    redis.call('HDEL', job, 'worker')
    redis.call('RPUSH', ready, id)
    count = count + 1
  elseif f[1] == attempt and f[3] == 'ready' and redis.call('LREM', active, -1, id) == 1 then
    redis.call('RPUSH', ready, id)
    count = count + 1
  end
end
return count
