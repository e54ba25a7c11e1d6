-- throttleRecipient: take one send from a recipient's allowance in a fixed window, or say how
-- long until the window ends. Check and count are one atomic step, so concurrent workers
-- cannot all slip under the limit together.
--
-- KEYS[1] counter  string  sends to this recipient in the current window (expires with it)
-- ARGV[1] limit    sends allowed per window
-- ARGV[2] window   window length (ms)
--
-- Returns 0 when the send may go (and is counted); otherwise the ms until the window ends.
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local wait = redis.call('PTTL', KEYS[1])
  if wait < 1 then wait = 1 end
  return wait
end
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
