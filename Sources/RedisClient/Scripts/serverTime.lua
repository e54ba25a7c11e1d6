-- serverTime: Redis's own clock in milliseconds, read once per script (TIME), so every worker
-- and API process judges ages and due times by one clock. Sets the local `now`.
local serverTime = redis.call('TIME')
local now = tonumber(serverTime[1]) * 1000 + math.floor(tonumber(serverTime[2]) / 1000)
