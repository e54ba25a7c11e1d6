-- reapWorker: return the jobs of a worker whose heartbeat expired to ready.
--
-- KEYS[1] workers  zset    registry of worker ids, score = last heartbeat (ms)
-- KEYS[2] alive    string  worker:<wid>:alive, the heartbeat (has a TTL)
-- KEYS[3] landing  list    worker:<wid>:landing, ids the dead worker moved with BLMOVE
-- KEYS[4] held     hash    worker:<wid>:held, id → fence of the jobs it was running
-- KEYS[5] ready    list    ready jobs
-- KEYS[6] dead     zset    dead jobs
-- KEYS[7] stats    hash    queue counters
-- ARGV[1] job key prefix   ARGV[2] worker id
-- ARGV[3] forget after (ms): a worker silent for longer than this (by Redis's clock, like the
--         heartbeats' scores), with nothing held, leaves the registry. Not sooner: a worker presumed dead may still be alive (paused, starved),
--         fetch again and die before its next heartbeat; as long as it is registered, the next
--         pass finds those jobs too.
--
-- Returns {recovered, dead}; or -1 when the heartbeat is present (the worker is alive after all).
-- Compare-and-set: the liveness check, the reads of landing and held and every move happen in
-- this one script, so a job is rescued only if, at that instant, it is still held by the dead
-- worker for that run (its fence), still active: a rescue never overwrites newer state (the duplicate
-- runs of sidekiq#4611 and river#1302 come from rescues that did).
-- A job moved in by BLMOVE but never claimed (state still ready) goes back as well.
-- A job whose attempts are used up goes to dead instead: a job that kills its worker every
-- time must not loop forever.
local workers, alive, landing, held, ready, dead, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local prefix, worker, forgetAfter = ARGV[1], ARGV[2], tonumber(ARGV[3])

if redis.call('EXISTS', alive) == 1 then return -1 end

-- @include serverTime
local forgetBefore = now - forgetAfter
local recovered, buried = 0, 0
for _, id in ipairs(redis.call('LRANGE', landing, 0, -1)) do
  if redis.call('HGET', prefix .. id, 'state') == 'ready' then
    redis.call('RPUSH', ready, id)
    recovered = recovered + 1
  end
end
local holding = redis.call('HGETALL', held)
for i = 1, #holding, 2 do
  local id, fence = holding[i], holding[i + 1]
  local job = prefix .. id
  local f = redis.call('HMGET', job, 'state', 'worker', 'attempt', 'max_attempts', 'fence')
  local attempt = f[3]
  if f[1] == 'active' and f[2] == worker and f[5] == fence and tonumber(attempt) and tonumber(f[4]) then
    redis.call('HDEL', job, 'worker')
    local reason = 'worker ' .. worker .. ' stopped heartbeating during attempt ' .. attempt
    if tonumber(attempt) >= tonumber(f[4]) then
      redis.call('HSET', job, 'state', 'dead', 'last_error', reason, 'finished_at', now)
      redis.call('ZADD', dead, now, id)
      redis.call('HINCRBY', stats, 'dead', 1)
      buried = buried + 1
    else
      redis.call('HSET', job, 'state', 'ready', 'last_error', reason)
      redis.call('RPUSH', ready, id)  -- it was already running: front of the line
      recovered = recovered + 1
    end
  end
end
redis.call('DEL', landing, held)
local seen = tonumber(redis.call('ZSCORE', workers, worker) or '0')
if seen < forgetBefore then redis.call('ZREM', workers, worker) end
redis.call('HINCRBY', stats, 'recovered', recovered)
return {recovered, buried}
