-- failJob: the holder reports an attempt that did not complete. The job leaves the active list
-- and is scheduled again (retry or snooze) or moved to dead.
--
-- KEYS[1] active   list   worker:<wid>:active of the reporting worker
-- KEYS[2] job      hash   job:<id>
-- KEYS[3] delayed  zset   score = run-at (ms)
-- KEYS[4] dead     zset   score = time of death (ms)
-- KEYS[5] stats    hash   queue counters
-- ARGV[1] id   ARGV[2] worker id   ARGV[3] attempt being reported
-- ARGV[4] mode: "retry" (uses the attempt; dead when none are left), "snooze" (gives the attempt
--         back), "dead" (permanent failure: dead at once)
-- ARGV[5] delay before the next attempt (ms)   ARGV[6] error text, kept as last_error
--
-- Returns 1 retry scheduled, 2 snoozed, 3 dead; -1 / -2 refused exactly as completeJob (fencing).
local active, job, delayed, dead, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, worker, attempt, mode, delay, err = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]

local f = redis.call('HMGET', job, 'attempt', 'worker', 'state', 'max_attempts')
if f[1] ~= attempt or f[2] ~= worker or f[3] ~= 'active' then return -2 end
if redis.call('LREM', active, -1, id) == 0 then return -1 end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HDEL', job, 'worker')
redis.call('HSET', job, 'last_error', err, 'finished_at', now)

if mode == 'retry' and tonumber(attempt) >= tonumber(f[4]) then mode = 'dead' end
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
