-- completeJobs: the holder acknowledges a batch of jobs: each leaves the active list and is
-- kept as completed for the retention window. One call per batch: the per-call cost of a
-- script is paid once for all the acknowledgements gathered while the last batch was in flight.
--
-- KEYS[1] active   list   worker:<wid>:active of the acknowledging worker
-- KEYS[2] stats    hash   queue counters
-- ARGV[1] job key prefix ("redial:{q}:job:")   ARGV[2] worker id   ARGV[3] retention (ms)
-- ARGV[4..] pairs: id, attempt being acknowledged
--
-- Returns one code per pair, in order:
--   1 completed
--  -1 refused: the job is not in this worker's active list (it was reaped)
--  -2 refused: the job is not active, or at another attempt, or held by another worker
-- Fencing: a worker that was paused past its heartbeat and reaped cannot overwrite the newer
-- state of a job another worker (or a later attempt) now owns.
local active, stats = KEYS[1], KEYS[2]
local prefix, worker, retention = ARGV[1], ARGV[2], ARGV[3]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local codes, completed = {}, 0
for i = 4, #ARGV, 2 do
  local id, attempt = ARGV[i], ARGV[i + 1]
  local job = prefix .. id
  local f = redis.call('HMGET', job, 'attempt', 'worker', 'state')
  if f[1] ~= attempt or f[2] ~= worker or f[3] ~= 'active' then
    codes[#codes + 1] = -2
  elseif redis.call('LREM', active, -1, id) == 0 then
    codes[#codes + 1] = -1
  else
    -- 'worker' stays: it now says who completed the job.
    redis.call('HSET', job, 'state', 'completed', 'finished_at', now)
    redis.call('PEXPIRE', job, retention)
    completed = completed + 1
    codes[#codes + 1] = 1
  end
end
if completed > 0 then redis.call('HINCRBY', stats, 'completed', completed) end
return codes
