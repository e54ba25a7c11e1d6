-- enqueueJobs: create a batch of jobs; each becomes ready, or delayed until its run-at time,
-- unless a job with the same dedup key was enqueued inside its dedup window. One call per batch:
-- a script's per-call cost is paid once for the whole batch.
--
-- KEYS[1] ready    list    jobs ready to run (consumers take from the right)
-- KEYS[2] delayed  zset    scheduled jobs, score = run-at (ms, Redis clock)
-- KEYS[3] stats    hash    queue counters
-- ARGV[1] key prefix of the queue ("redial:{q}:"); job hashes are <prefix>job:<id>, dedup
--         keys <prefix>dedup:<key>, all in the queue's hash slot
-- ARGV[2..] runs of jobs that share their settings (usually a whole batch is one run): each run
--   is 7 entries, then 3 per job:
--   n (jobs in the run), type, max attempts, delay (ms; 0 = ready now),
--   priority ("high": front of the line, or "normal"), dedup window (ms),
--   attempt timeout (ms, from the type's policy at enqueue);
--   then n × (id, payload (JSON), dedup key ("" = none)).
--   Settings go once per run, not once per job: Redis parses every argument and makes a Lua
--   string of it, and six more per job cost about a sixth of this script's time.
--
-- Returns, per job in order: its id and 1 when created, or the earlier job's id and 0 for a
-- duplicate inside the window (a flat array: id, flag, id, flag, …). The earlier job counts
-- only while it is waiting, running or completed; a dead one leaves the key free. A dedup key lives for the delay plus the window.
-- Invariant: a job id is in exactly one of ready / delayed / a worker's landing list or held
-- hash / dead.
local ready, delayed, stats = KEYS[1], KEYS[2], KEYS[3]
local prefix = ARGV[1]

-- @include serverTime
-- Numbers handed to redis.call are formatted with "%.14g", which costs more than the command;
-- integers go as text formatted with "%d".
local nowText = string.format('%d', now)
local out, created = {}, 0
-- Ids bound for ready go in one LPUSH (normal) and one RPUSH (high) after the loop: the same
-- order as a push per job (each list end keeps its jobs in enqueue order), one call per batch.
local normal, high = {}, {}

local i = 2
while i <= #ARGV do
  local n, jobType, maxAttempts = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2]
  local delay, priority, dedupWindow, timeout = tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local state = 'ready'
  if delay > 0 then state = 'delayed' end
  local first = i + 7
  i = first + 3 * n
  for j = first, i - 1, 3 do
    local id, payload, dedupKey = ARGV[j], ARGV[j + 1], ARGV[j + 2]
    local existing = false
    if dedupKey ~= '' then
      local dedup = prefix .. 'dedup:' .. dedupKey
      existing = redis.call('GET', dedup)
      -- A job that went dead did not do the work: the key's holder is a duplicate only while
      -- it waits, runs or is done (a completed record pruned since still counts as done;
      -- deleting or pruning a dead job deletes its key).
      if existing and redis.call('HGET', prefix .. 'job:' .. existing, 'state') == 'dead' then existing = false end
      -- The window starts when the job is due: a callback delayed 30 days keeps its key for
      -- those days and the window after them.
      if not existing then redis.call('SET', dedup, id, 'PX', tonumber(dedupWindow) + delay) end
    end
    if existing then
      out[#out + 1] = existing
      out[#out + 1] = 0
    else
      local job = prefix .. 'job:' .. id
      -- Only what differs from the defaults is stored (no id or queue: the key holds both;
      -- run-at, priority and dedup key only when set): memory per waiting job is a figure we
      -- answer for.
      redis.call('HSET', job, 'type', jobType, 'payload', payload, 'attempt', '0', 'max_attempts', maxAttempts,
        'state', state, 'enqueued_at', nowText, 'timeout_ms', timeout)
      if delay > 0 then
        redis.call('HSET', job, 'run_at', now + delay)
        redis.call('ZADD', delayed, now + delay, id)
      elseif priority == 'high' then
        high[#high + 1] = id
      else
        normal[#normal + 1] = id
      end
      if priority == 'high' then redis.call('HSET', job, 'priority', priority) end
      if dedupKey ~= '' then redis.call('HSET', job, 'dedup_key', dedupKey) end
      created = created + 1
      out[#out + 1] = id
      out[#out + 1] = 1
    end
  end
end
if #normal > 0 then redis.call('LPUSH', ready, unpack(normal)) end
if #high > 0 then redis.call('RPUSH', ready, unpack(high)) end
if created > 0 then redis.call('HINCRBY', stats, 'enqueued', created) end
return out
