-- pruneDead: bound the dead jobs of a queue: the newest N are kept, none older than an age.
-- Dead jobs are an operator's inbox, not the system of record (PostgreSQL is), and a queue that
-- fails steadily would otherwise grow Redis without bound until `noeviction` refuses every
-- write. Run by the reaper, at most 1000 deletions a call, oldest first.
--
-- KEYS[1] dead   zset   dead jobs, score = time of death (ms)
-- KEYS[2] stats  hash   queue counters
-- ARGV[1] job key prefix ("redial:{q}:job:")   ARGV[2] dead jobs kept at most (the newest)
-- ARGV[3] age (ms): jobs dead for longer than this (by Redis's clock) are deleted
--
-- Returns how many dead jobs were deleted. A deleted job's dedup key goes too, while it still
-- names the job.
local dead, stats = KEYS[1], KEYS[2]
local prefix, keep = ARGV[1], tonumber(ARGV[2])
local limit = 1000

-- @include serverTime
local before = string.format('%d', now - tonumber(ARGV[3]))

local victims = redis.call('ZRANGE', dead, '-inf', '(' .. before, 'BYSCORE', 'LIMIT', 0, limit)
local over = redis.call('ZCARD', dead) - #victims - keep
if over > 0 and #victims < limit then
  local extra = redis.call('ZRANGE', dead, #victims, #victims + math.min(over, limit - #victims) - 1)
  for _, id in ipairs(extra) do victims[#victims + 1] = id end
end
if #victims == 0 then return 0 end
redis.call('ZREM', dead, unpack(victims))
local records = {}
for i, id in ipairs(victims) do
  records[i] = prefix .. id
  -- The job's claim on its dedup key goes with it (the key is in the queue's slot: the
  -- prefix ends in "job:", the dedup keys sit beside).
  local dedupKey = redis.call('HGET', records[i], 'dedup_key')
  if dedupKey then
    local dedup = string.sub(prefix, 1, -5) .. 'dedup:' .. dedupKey
    if redis.call('GET', dedup) == id then redis.call('DEL', dedup) end
  end
end
redis.call('UNLINK', unpack(records))
redis.call('HINCRBY', stats, 'pruned', #victims)
return #victims
