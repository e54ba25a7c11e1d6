-- claimJobs: take up to N jobs for this worker: first any it already moved into its landing list
-- with BLMOVE, then from ready. Each is marked active at attempt + 1 with a new fence (its run
-- count, which, unlike the attempt, nothing ever gives back) and entered in the worker's held
-- hash (id → fence), all in this one script.
--
-- KEYS[1] ready    list   ready jobs, taken from the right
-- KEYS[2] landing  list   worker:<wid>:landing, ids moved by BLMOVE and not yet claimed
-- KEYS[3] held     hash   worker:<wid>:held, id → fence of every job this worker runs
-- KEYS[4] stats    hash   queue counters
-- KEYS[5] dead     zset   dead jobs: where a record too damaged to run goes, with the reason
-- KEYS[6] paused   string present while the queue is paused (its reason)
-- ARGV[1] job key prefix ("redial:{q}:job:")   ARGV[2] worker id   ARGV[3] how many to take
--
-- Returns {"paused"} and takes nothing, not even what landed, while the queue is paused.
-- Otherwise a flat array, 9 entries per claimed job:
--   id, type, payload, attempt, max attempts, enqueued at (ms), started at (ms), timeout (ms), fence
-- The fence is the token every later ack and hand-back of this run presents: a snooze or a
-- hand-back gives the attempt back, so attempts repeat; fences never do, so an ack of an
-- earlier run can never pass for this one.
-- An id whose job hash is gone (deleted by hand) or not in state ready is dropped and skipped,
-- so a stray id can never run. The landing list is emptied on every claim, so an id whose
-- BLMOVE reply was lost with the connection is claimed by the next call.
-- Every field is checked before anything is written: Redis does not undo a script's writes
-- when it stops on an error, and an error after the RPOPs would strand every popped job. A
-- record without a type, payload or a numeric attempt count goes to dead instead, named.
local ready, landing, held, stats, dead, paused = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local prefix, worker, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', paused) == 1 then return {'paused'} end

-- @include serverTime
-- Numbers handed to redis.call are formatted with "%.14g", which costs more than the command;
-- integers go as strings formatted once with "%d".
local nowText = string.format('%d', now)
local out, holding = {}, {}

local function mark(id)
  local job = prefix .. id
  local f = redis.call('HMGET', job, 'state', 'attempt', 'type', 'payload', 'max_attempts', 'enqueued_at', 'timeout_ms', 'fence')
  if f[1] ~= 'ready' then return end
  local previous, maxAttempts = tonumber(f[2]), tonumber(f[5])
  if not previous or not maxAttempts or not f[3] or not f[4] then
    redis.call('HSET', job, 'state', 'dead', 'finished_at', nowText,
      'last_error', 'damaged record: type, payload, attempt and max_attempts are required')
    redis.call('ZADD', dead, nowText, id)
    redis.call('HINCRBY', stats, 'dead', 1)
    return
  end
  local attempt = previous + 1
  local attemptText = string.format('%d', attempt)
  local fence = (tonumber(f[8]) or previous) + 1
  local fenceText = string.format('%d', fence)
  redis.call('HSET', job, 'state', 'active', 'attempt', attemptText, 'worker', worker, 'started_at', nowText, 'fence', fenceText)
  holding[#holding + 1] = id
  holding[#holding + 1] = fenceText
  -- Numbers in the reply are cheap: they become integer replies, never text.
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = id, f[3], f[4], attempt
  -- false, not nil: a nil would end the reply early and shift every later job's fields.
  out[n + 5], out[n + 6], out[n + 7], out[n + 8] = maxAttempts, f[6] or false, now, f[7] or false
  out[n + 9] = fence
end

-- One RPOP per list for the whole batch (the order of an LMOVE per job): each redis.call costs
-- about a microsecond of script overhead, more than the list work itself.
local ids = (count > 0 and redis.call('RPOP', landing, count)) or {}
if #ids < count then
  local more = redis.call('RPOP', ready, count - #ids)
  if more then for _, id in ipairs(more) do ids[#ids + 1] = id end end
end
for _, id in ipairs(ids) do mark(id) end
if #holding > 0 then
  redis.call('HSET', held, unpack(holding))
  redis.call('HINCRBY', stats, 'started', #out / 9)
end
return out
