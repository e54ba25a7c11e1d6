-- beatHeartbeat: one heartbeat of a worker in a queue: its liveness key renewed, its registry
-- entry scored with the time of the beat. Both by Redis's clock, so the reaper, which forgets
-- long-silent workers by Redis's clock too, never misjudges a worker whose own clock is off.
--
-- KEYS[1] alive    string  worker:<wid>:alive, the heartbeat (expires after the TTL); its value
--                          is the worker's release (JSON), for `redial stats`
-- KEYS[2] workers  zset    registry of worker ids, score = last heartbeat (ms, Redis clock)
-- ARGV[1] worker id        ARGV[2] TTL of the heartbeat (ms)      ARGV[3] the release (JSON)
--
-- Returns 1 when the heartbeat was still there (this worker was alive all along), 0 when it
-- had expired (a first beat, or a worker presumed dead whose jobs others may have taken).
local alive, workers = KEYS[1], KEYS[2]
local worker, ttl, release = ARGV[1], ARGV[2], ARGV[3]

-- @include serverTime
local before = redis.call('SET', alive, release, 'PX', ttl, 'GET')
redis.call('ZADD', workers, string.format('%d', now), worker)
if before then return 1 end
return 0
