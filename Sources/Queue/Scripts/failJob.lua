-- failJob: the holder reports an attempt that did not complete. The job leaves the worker's held
-- hash and is scheduled again (retry or snooze) or moved to dead.
--
-- KEYS[1] held     hash   worker:<wid>:held of the reporting worker, id → fence
-- KEYS[2] job      hash   job:<id>
-- KEYS[3] delayed  zset   score = run-at (ms)
-- KEYS[4] dead     zset   score = time of death (ms)
-- KEYS[5] stats    hash   queue counters
-- ARGV[1] id   ARGV[2] fence of the run being reported (claimJobs)
-- ARGV[3] mode: "retry" (uses the attempt; dead when none are left), "snooze" (gives the attempt
--         back), "dead" (permanent failure: dead at once)
-- ARGV[4] delay before the next attempt (ms)   ARGV[5] error text, kept as last_error
--
-- Returns 1 retry scheduled, 2 snoozed, 3 dead; -1 / -2 refused exactly as completeJobs (fencing).
-- A bad mode or delay is an error reply before anything changes; a job whose record lost its
-- max_attempts goes to dead rather than nowhere.
local held, job, delayed, dead, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, fence, mode, delay, err = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]

local holding = redis.call('HGET', held, id)
if not holding then return -1 end
if holding ~= fence then return -2 end
-- Checked before any write: Redis keeps a script's writes when it stops on an error, and a
-- failure after the HDEL would leave the job in no list at all.
if mode ~= 'retry' and mode ~= 'snooze' and mode ~= 'dead' then return redis.error_reply('failJob: unknown mode ' .. tostring(mode)) end
if not delay or delay < 0 then return redis.error_reply('failJob: delay must be a number of ms >= 0') end
local record = redis.call('HMGET', job, 'max_attempts', 'attempt')
local maxAttempts, attempt = tonumber(record[1]), tonumber(record[2]) or 0
if not maxAttempts then
  -- The record is gone or damaged: nothing to schedule; the job leaves this worker as dead.
  mode = 'dead'
  maxAttempts = 0
end
redis.call('HDEL', held, id)

-- @include serverTime
redis.call('HDEL', job, 'worker')
redis.call('HSET', job, 'last_error', err, 'finished_at', now)

if mode == 'retry' and attempt >= maxAttempts then mode = 'dead' end
if mode == 'dead' then
  redis.call('HSET', job, 'state', 'dead')
  redis.call('ZADD', dead, now, id)
  redis.call('HINCRBY', stats, 'failed', 1)
  redis.call('HINCRBY', stats, 'dead', 1)
  return 3
end
redis.call('HSET', job, 'state', 'retry', 'run_at', now + delay)
redis.call('ZADD', delayed, now + delay, id)
if mode == 'snooze' then
  redis.call('HINCRBY', job, 'attempt', -1)
  redis.call('HINCRBY', stats, 'snoozed', 1)
  return 2
end
redis.call('HINCRBY', stats, 'failed', 1)
redis.call('HINCRBY', stats, 'retried', 1)
return 1
