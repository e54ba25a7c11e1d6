-- completeJobs: the holder acknowledges a batch of jobs: each leaves the worker's held hash and
-- its record is kept as completed, newest first, up to a count and an age. One call per batch:
-- the per-call cost of a script is paid once for all the acknowledgements gathered while the
-- last batch was in flight, and so is the fencing read (one HMGET of the held hash) and the
-- retention bookkeeping (one LPUSH for the batch, not an expiry per job; a list, not a sorted
-- set, because the ids arrive in finishing order anyway).
--
-- KEYS[1] held       hash   worker:<wid>:held of the acknowledging worker, id → fence
-- KEYS[2] stats      hash   queue counters
-- KEYS[3] completed  list   "<finished at ms>:<id>" of kept records, newest at the head
-- ARGV[1] job key prefix ("redial:{q}:job:")
-- ARGV[2] retention (ms)   ARGV[3] records kept at most (the newest)
-- ARGV[4..] triples: id, fence of the run being acknowledged (claimJobs), the stats field its
--         run time counts in ("run_ms:<type>:<bound>": RunTimeHistogram; counted once per batch)
--
-- Returns one code per triple, in order:
--   1 completed
--  -1 refused: this worker does not hold the job (it was reaped, or handed back)
--  -2 refused: this worker holds the job for another run (another fence)
-- Fencing: the held hash has an entry exactly while the worker holds the job for that run
-- (every script that takes a job away from a worker deletes the entry in the same step), so a
-- worker that was paused past its heartbeat and reaped cannot overwrite the newer state of a
-- job another worker (or a later attempt) now owns. Records past the age or the count are
-- deleted here, at most 1000 per call, oldest first.
local held, stats, completed = KEYS[1], KEYS[2], KEYS[3]
local prefix, retention, keep = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

-- @include serverTime
local nowText = string.format('%d', now)  -- formatted once (see claimJobs)
local ids = {}
for i = 4, #ARGV, 3 do ids[#ids + 1] = ARGV[i] end
local holding = redis.call('HMGET', held, unpack(ids))
local codes, finished, released, runTimes = {}, {}, {}, {}
for n, id in ipairs(ids) do
  local attempt = holding[n]
  if not attempt then
    codes[n] = -1
  elseif attempt ~= ARGV[2 + 3 * n] then
    codes[n] = -2
  else
    -- 'worker' stays: it now says who completed the job.
    redis.call('HSET', prefix .. id, 'state', 'completed', 'finished_at', nowText)
    released[#released + 1] = id
    finished[#finished + 1] = nowText .. ':' .. id
    local runTime = ARGV[3 + 3 * n]
    runTimes[runTime] = (runTimes[runTime] or 0) + 1
    codes[n] = 1
  end
end
if #finished > 0 then
  redis.call('HDEL', held, unpack(released))
  redis.call('HINCRBY', stats, 'completed', #finished)
  for field, count in pairs(runTimes) do redis.call('HINCRBY', stats, field, count) end
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
