-- deleteDead: an operator removes a dead job for good.
--
-- KEYS[1] dead     zset   dead jobs
-- KEYS[2] job      hash   job:<id>
-- ARGV[1] id
--
-- Returns 1 when deleted, 0 when the job is not dead (only dead jobs can be deleted, so a job
-- a worker may be running is never pulled from under it).
local dead, job = KEYS[1], KEYS[2]
if redis.call('ZREM', dead, ARGV[1]) == 0 then return 0 end
redis.call('DEL', job)
return 1
