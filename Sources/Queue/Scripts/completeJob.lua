-- completeJob: the holder acknowledges a job: it leaves the active list and is kept as
-- completed for the retention window.
--
-- KEYS[1] active   list   worker:<wid>:active of the acknowledging worker
-- KEYS[2] job      hash   job:<id>
-- KEYS[3] stats    hash   queue counters
-- ARGV[1] id   ARGV[2] worker id   ARGV[3] attempt being acknowledged   ARGV[4] retention (ms)
--
-- Returns  1 completed
--         -1 refused: the job is not in this worker's active list (it was reaped)
--         -2 refused: the job is at another attempt or held by another worker
-- Fencing: a worker that was paused past its heartbeat and reaped cannot overwrite the newer
-- state of a job another worker (or a later attempt) now owns.
local active, job, stats = KEYS[1], KEYS[2], KEYS[3]
local id, worker, attempt, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

local f = redis.call('HMGET', job, 'attempt', 'worker', 'state')
if f[1] ~= attempt or f[2] ~= worker or f[3] ~= 'active' then return -2 end
if redis.call('LREM', active, -1, id) == 0 then return -1 end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', job, 'state', 'completed', 'finished_at', now)
redis.call('HDEL', job, 'worker')
redis.call('PEXPIRE', job, retention)
redis.call('HINCRBY', stats, 'completed', 1)
return 1
