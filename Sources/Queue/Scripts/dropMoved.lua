-- dropMoved: the last step of a move (see takeWaiting): jobs now enqueued on the target queue
-- are deleted here, with their dedup keys when they still name them.
--
-- KEYS[1] moving  list   jobs taken for a move and not yet dropped
-- KEYS[2] stats   hash   queue counters ('moved')
-- ARGV[1] key prefix of the queue ("redial:{q}:")
-- ARGV[2..] ids
--
-- Returns how many were dropped.
local moving, stats = KEYS[1], KEYS[2]
local prefix = ARGV[1]
local dropped = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('LREM', moving, 0, id) > 0 then
    local job = prefix .. 'job:' .. id
    local dedupKey = redis.call('HGET', job, 'dedup_key')
    if dedupKey and redis.call('GET', prefix .. 'dedup:' .. dedupKey) == id then redis.call('DEL', prefix .. 'dedup:' .. dedupKey) end
    redis.call('DEL', job)
    dropped = dropped + 1
  end
end
if dropped > 0 then redis.call('HINCRBY', stats, 'moved', dropped) end
return dropped
