-- completeJobs: the holder acknowledges a batch of jobs: each leaves the active list and its
-- record is kept as completed, newest first, up to a count and an age. One call per batch: the
-- per-call cost of a script is paid once for all the acknowledgements gathered while the last
-- batch was in flight, and so is the retention bookkeeping (one LPUSH for the batch, not an
-- expiry per job; a list, not a sorted set, because the ids arrive in finishing order anyway).
--
-- KEYS[1] active     list   worker:<wid>:active of the acknowledging worker
-- KEYS[2] stats      hash   queue counters
-- KEYS[3] completed  list   "<finished at ms>:<id>" of kept records, newest at the head
-- ARGV[1] job key prefix ("redial:{q}:job:")   ARGV[2] worker id
-- ARGV[3] retention (ms)   ARGV[4] records kept at most (the newest)
-- ARGV[5..] pairs: id, attempt being acknowledged
--
-- Returns one code per pair, in order:
--   1 completed
--  -1 refused: the job is not in this worker's active list (it was reaped)
--  -2 refused: the job is not active, or at another attempt, or held by another worker
-- Fencing: a worker that was paused past its heartbeat and reaped cannot overwrite the newer
-- state of a job another worker (or a later attempt) now owns. Records past the age or the
-- count are deleted here, at most 1000 per call, oldest first.
local active, stats, completed = KEYS[1], KEYS[2], KEYS[3]
local prefix, worker, retention, keep = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local codes, finished = {}, {}
for i = 5, #ARGV, 2 do
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
    finished[#finished + 1] = now .. ':' .. id
    codes[#codes + 1] = 1
  end
end
if #finished > 0 then
  redis.call('HINCRBY', stats, 'completed', #finished)
  redis.call('LPUSH', completed, unpack(finished))
  -- The oldest go: past the count, then past the age (at most 1000 per call).
  local victims = {}
  local over = redis.call('LLEN', completed) - keep
  if over > 0 then victims = redis.call('RPOP', completed, math.min(over, 1000)) end
  while #victims < 1000 do
    local oldest = redis.call('LINDEX', completed, -1)
    local at = oldest and tonumber(string.match(oldest, '^(%d+):'))
    if not at or at > now - retention then break end
    victims[#victims + 1] = redis.call('RPOP', completed)
  end
  if #victims > 0 then
    local records = {}
    for i, entry in ipairs(victims) do records[i] = prefix .. string.match(entry, ':(.*)$') end
    redis.call('UNLINK', unpack(records))
  end
end
return codes
