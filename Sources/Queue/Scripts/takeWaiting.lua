-- takeWaiting: the first step of moving a queue's waiting jobs to another queue (a rolled-back
-- beta's jobs to production's queues; the two queues live in different slots, so no one script
-- can do both). Up to ARGV[1] jobs leave ready (next to run first) and delayed (soonest first)
-- for the moving list, where no worker claims them; their records are returned for the caller
-- to enqueue on the target queue (under a dedup key, so doing it twice creates nothing), after
-- which dropMoved deletes them here. Jobs a crashed mover left in the moving list are returned
-- first, so the move resumes where it stopped and loses nothing.
--
-- KEYS[1] ready    list   jobs ready to run
-- KEYS[2] delayed  zset   scheduled jobs, score = run-at (ms, Redis clock)
-- KEYS[3] moving   list   jobs taken for a move and not yet dropped
-- ARGV[1] how many jobs to take at most
-- ARGV[2] job key prefix ("redial:{q}:job:")
--
-- Returns, per job: id, type, payload, max attempts, timeout (ms), run-at (ms, "" = ready now),
-- priority ("" = normal), dedup key ("" = none) as a flat array; and the Redis clock (ms) last.
local ready, delayed, moving = KEYS[1], KEYS[2], KEYS[3]
local limit, prefix = tonumber(ARGV[1]), ARGV[2]

-- @include serverTime
local ids = redis.call('LRANGE', moving, 0, limit - 1)
if #ids == 0 then
  local taken = redis.call('RPOP', ready, limit)
  if taken then ids = taken end
  if #ids < limit then
    local due = redis.call('ZRANGE', delayed, 0, limit - #ids - 1)
    if #due > 0 then
      redis.call('ZREM', delayed, unpack(due))
      for _, id in ipairs(due) do ids[#ids + 1] = id end
    end
  end
  if #ids > 0 then redis.call('LPUSH', moving, unpack(ids)) end
end
local out = {}
for _, id in ipairs(ids) do
  local job = prefix .. id
  local fields = redis.call('HMGET', job, 'type', 'payload', 'max_attempts', 'timeout_ms', 'run_at', 'priority', 'dedup_key')
  if fields[1] then
    redis.call('HSET', job, 'state', 'moving')
    out[#out + 1] = id
    for i = 1, 7 do out[#out + 1] = fields[i] or '' end
  else
    redis.call('LREM', moving, 0, id)  -- its record is gone: nothing to move
  end
end
out[#out + 1] = now
return out
