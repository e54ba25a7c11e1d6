-- replacePayload: rewrites a job's payload in place (data.reseal seals personal data again under
-- a new key), only while the payload is still the one the caller read: a job that completed, was
-- deleted or was rewritten in the meantime is left as it is, and no job is brought back.
--
-- KEYS[1] job      hash     job:<id>
-- ARGV[1] the payload as read
-- ARGV[2] the payload to write (the same job: same type, same meaning)
--
-- Returns 1 when replaced, 0 when the job is gone or its payload changed.
local job = KEYS[1]
if redis.call('HGET', job, 'payload') ~= ARGV[1] then return 0 end
redis.call('HSET', job, 'payload', ARGV[2])
return 1
