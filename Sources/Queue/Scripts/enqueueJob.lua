-- enqueueJob: create one job and make it ready, or delayed until its run-at time, unless a job
-- with the same dedup key was enqueued inside the dedup window.
--
-- KEYS[1] ready    list    jobs ready to run (consumers take from the right)
-- KEYS[2] delayed  zset    scheduled jobs, score = run-at (ms, Redis clock)
-- KEYS[3] job      hash    job:<id>, created here
-- KEYS[4] dedup    string  dedup:<key>; untouched when ARGV[8] is empty
-- KEYS[5] stats    hash    queue counters
-- ARGV[1] id              ARGV[2] type            ARGV[3] payload (JSON)
-- ARGV[4] max attempts    ARGV[5] delay (ms; 0 = ready now)
-- ARGV[6] priority: "high" (front of the line) or "normal"
-- ARGV[7] dedup key ("" = none)                  ARGV[8] dedup window (ms)
-- ARGV[9] attempt timeout (ms), from the type's policy at enqueue
--
-- Returns {id, 1} when created, {id of the earlier job, 0} for a duplicate inside the window.
-- Invariant: a job id is in exactly one of ready / delayed / an active list / dead.
local ready, delayed, job, dedup, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, jobType, payload = ARGV[1], ARGV[2], ARGV[3]
local maxAttempts, delay, priority = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local dedupKey, dedupWindow, timeout = ARGV[7], ARGV[8], ARGV[9]

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

-- Only what differs from the defaults is stored (no id or queue: the key holds both; run-at,
-- priority and dedup key only when set): memory per waiting job is a figure we answer for.
redis.call('HSET', job, 'type', jobType, 'payload', payload, 'attempt', 0, 'max_attempts', maxAttempts,
  'state', state, 'enqueued_at', now, 'timeout_ms', timeout)
if delay > 0 then redis.call('HSET', job, 'run_at', runAt) end
if priority == 'high' then redis.call('HSET', job, 'priority', priority) end
if dedupKey ~= '' then redis.call('HSET', job, 'dedup_key', dedupKey) end

if delay > 0 then
  redis.call('ZADD', delayed, runAt, id)
elseif priority == 'high' then
  redis.call('RPUSH', ready, id)
else
  redis.call('LPUSH', ready, id)
end
redis.call('HINCRBY', stats, 'enqueued', 1)
return {id, 1}
