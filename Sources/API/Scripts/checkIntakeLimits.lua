-- checkIntakeLimits: decide whether a callback request is within the site's abuse limits and,
-- if it is, count it. Check and count are one atomic step, so concurrent requests cannot all
-- slip under a limit together. Sliding windows over sorted sets scored by time.
--
-- KEYS[1] number   zset   requests for this phone number from every site (member: request id),
--                         score = time (ms); named by the number's keyed hash, never the number
-- KEYS[2] client   zset   numbers this client (an IPv4 address or an IPv6 /64) asked for, on
--                         every site (member: the number's keyed hash), score = last time (ms)
-- KEYS[3] site     zset   requests to this site (member: request id), score = time (ms)
-- ARGV[1] request id        ARGV[2] the number's keyed hash (IntakeLimiter.lookup)
-- ARGV[3] number per 15 min ARGV[4] number per hour   ARGV[5] number per day
-- ARGV[6] distinct numbers per client per hour        ARGV[7] … per day
-- ARGV[8] site per minute   ARGV[9] site per day
--
-- Returns {0} when allowed (and counted); {1, limit name, ms until a retry can pass} when not.
-- The thresholds are the requesting site's; the number and client counts are everyone's, so
-- many site keys do not multiply the rings on one phone. All keys share one hash tag
-- ("{limits}") and expire a day after their last write.
local number, client, site = KEYS[1], KEYS[2], KEYS[3]
local request, phone = ARGV[1], ARGV[2]  -- phone: the keyed hash

-- @include serverTime
local MINUTE, HOUR, DAY = 60000, 3600000, 86400000

for _, key in ipairs({number, client, site}) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - DAY)
end

-- When `limit` or more entries lie in the window: how long until enough of them leave it.
local function over(key, window, limit, name)
  local count = redis.call('ZCOUNT', key, now - window, '+inf')
  if count < limit then return nil end
  local entry = redis.call('ZRANGEBYSCORE', key, now - window, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
  local wait = tonumber(entry[2]) + window - now
  if wait < 1 then wait = 1 end
  return {1, name, wait}
end

local refusal = over(number, 15 * MINUTE, tonumber(ARGV[3]), 'number_per_15_minutes')
  or over(number, HOUR, tonumber(ARGV[4]), 'number_per_hour')
  or over(number, DAY, tonumber(ARGV[5]), 'number_per_day')
  or over(site, MINUTE, tonumber(ARGV[8]), 'site_per_minute')
  or over(site, DAY, tonumber(ARGV[9]), 'site_per_day')
if refusal then return refusal end

-- A number this client already asked for inside a window is not a new distinct number.
local seen = tonumber(redis.call('ZSCORE', client, phone) or '0')
if seen < now - HOUR then
  refusal = over(client, HOUR, tonumber(ARGV[6]), 'client_numbers_per_hour')
end
if not refusal and seen < now - DAY then
  refusal = over(client, DAY, tonumber(ARGV[7]), 'client_numbers_per_day')
end
if refusal then return refusal end

redis.call('ZADD', number, now, request)
redis.call('ZADD', client, now, phone)
redis.call('ZADD', site, now, request)
for _, key in ipairs({number, client, site}) do
  redis.call('PEXPIRE', key, DAY)
end
return {0}
