-- enqueueJob: create one job and make it ready, or delayed until its run-at time, unless a job
-- with the same dedup key was enqueued inside the dedup window.
--
-- KEYS[1] ready    list    jobs ready to run (consumers take from the right)
-- KEYS[2] delayed  zset    scheduled jobs, score = run-at (ms, Redis clock)
-- KEYS[3] job      hash    job:<id>, created here
-- KEYS[4] dedup    string  dedup:<key>; untouched when ARGV[8] is empty
-- KEYS[5] stats    hash    queue counters
-- ARGV[1] id              ARGV[2] type            ARGV[3] queue name
-- ARGV[4] payload (JSON)  ARGV[5] max attempts    ARGV[6] delay (ms; 0 = ready now)
-- ARGV[7] priority: "high" (front of the line) or "normal"
-- ARGV[8] dedup key ("" = none)                  ARGV[9] dedup window (ms)
-- ARGV[10] attempt timeout (ms), from the type's policy at enqueue
--
-- Returns {id, 1} when created, {id of the earlier job, 0} for a duplicate inside the window.
-- Invariant: a job id is in exactly one of ready / delayed / an active list / dead.
local ready, delayed, job, dedup, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, jobType, queue, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local maxAttempts, delay, priority = ARGV[5], tonumber(ARGV[6]), ARGV[7]
local dedupKey, dedupWindow, timeout = ARGV[8], ARGV[9], ARGV[10]

if dedupKey ~= '' then
  local existing = redis.call('GET', dedup)
  if existing then return {existing, 0} end
  redis.call('SET', dedup, id, 'PX', dedupWindow)
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local runAt = now + delay
local state = 'ready'
if delay > 0 then state = 'delayed' end

redis.call('HSET', job, 'id', id, 'type', jobType, 'queue', queue, 'payload', payload,
  'attempt', 0, 'max_attempts', maxAttempts, 'state', state, 'priority', priority,
  'enqueued_at', now, 'run_at', runAt, 'dedup_key', dedupKey, 'timeout_ms', timeout)

if delay > 0 then
  redis.call('ZADD', delayed, runAt, id)
elseif priority == 'high' then
  redis.call('RPUSH', ready, id)
else
  redis.call('LPUSH', ready, id)
end
redis.call('HINCRBY', stats, 'enqueued', 1)
return {id, 1}
