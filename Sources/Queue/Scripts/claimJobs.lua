-- claimJobs: move up to N jobs from ready into this worker's active list and mark them active,
-- attempt + 1. A job the worker already moved with BLMOVE (ARGV[4]) is marked first.
--
-- KEYS[1] ready    list   ready jobs, taken from the right
-- KEYS[2] active   list   worker:<wid>:active, this worker's held jobs
-- KEYS[3] stats    hash   queue counters
-- ARGV[1] job key prefix ("redial:{q}:job:")   ARGV[2] worker id
-- ARGV[3] how many more to move from ready     ARGV[4] id already moved into active ("" = none)
--
-- Returns a flat array, 8 entries per claimed job:
--   id, type, payload, attempt, max attempts, enqueued at (ms), started at (ms), timeout (ms)
-- An id whose job hash is gone (deleted by hand) or not in state ready is dropped from the
-- active list and skipped, so a stray id can never run.
local ready, active, stats = KEYS[1], KEYS[2], KEYS[3]
local prefix, worker, count, moved = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}

local function mark(id)
  local job = prefix .. id
  local f = redis.call('HMGET', job, 'state', 'attempt', 'type', 'payload', 'max_attempts', 'enqueued_at', 'timeout_ms')
  if f[1] ~= 'ready' then
    redis.call('LREM', active, -1, id)
    return
  end
  local attempt = tonumber(f[2]) + 1
  redis.call('HSET', job, 'state', 'active', 'attempt', attempt, 'worker', worker, 'started_at', now)
  out[#out + 1] = id
  out[#out + 1] = f[3]
  out[#out + 1] = f[4]
  out[#out + 1] = attempt
  out[#out + 1] = f[5]
  out[#out + 1] = f[6]
  out[#out + 1] = now
  out[#out + 1] = f[7]
end

if moved ~= '' then mark(moved) end
-- One RPOP and one LPUSH for the whole batch (the same order as an LMOVE per job): each
-- redis.call costs about a microsecond of script overhead, more than the list work itself.
if count > 0 then
  local ids = redis.call('RPOP', ready, count)
  if ids then
    redis.call('LPUSH', active, unpack(ids))
    for _, id in ipairs(ids) do mark(id) end
  end
end
if #out > 0 then redis.call('HINCRBY', stats, 'started', #out / 8) end
return out
