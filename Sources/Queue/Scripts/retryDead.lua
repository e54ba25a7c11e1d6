-- retryDead: an operator sends a dead job back to ready with a fresh set of attempts.
--
-- KEYS[1] dead     zset   dead jobs
-- KEYS[2] ready    list   ready jobs
-- KEYS[3] job      hash   job:<id>
-- ARGV[1] id
--
-- Returns 1 when retried, 0 when the job is not dead (already retried, deleted, unknown).
local dead, ready, job = KEYS[1], KEYS[2], KEYS[3]
local id = ARGV[1]
if redis.call('ZREM', dead, id) == 0 then return 0 end
if redis.call('EXISTS', job) == 0 then return 0 end
redis.call('HSET', job, 'state', 'ready', 'attempt', 0)
redis.call('LPUSH', ready, id)
return 1
