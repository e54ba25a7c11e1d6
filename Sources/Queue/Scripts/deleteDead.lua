-- deleteDead: an operator removes a dead job for good, and with it the job's claim on its dedup
-- key: a job enqueued later under that key is new work, not a duplicate of a deleted one.
--
-- KEYS[1] dead     zset     dead jobs
-- KEYS[2] job      hash     job:<id>
-- KEYS[3] dedup    string   dedup:<the job's dedup key> (the caller reads it from the job; any
--                           key of the queue when the job has none)
-- ARGV[1] id
--
-- Returns 1 when deleted, 0 when the job is not dead (only dead jobs can be deleted, so a job
-- a worker may be running is never pulled from under it).
-- The dedup key is deleted only while it still names this job: a newer job under the same key
-- keeps its claim.
local dead, job, dedup = KEYS[1], KEYS[2], KEYS[3]
local id = ARGV[1]
if redis.call('ZREM', dead, id) == 0 then return 0 end
redis.call('DEL', job)
if redis.call('GET', dedup) == id then redis.call('DEL', dedup) end
return 1
