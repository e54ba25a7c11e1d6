-- Dialing: the dedup key of the job expected to move each callback on (the reconciler checks it
-- is still alive in Redis), and lookups of attempts by the provider's call id.
ALTER TABLE callbacks ADD COLUMN job_key text;
ALTER TABLE callbacks ADD COLUMN minutes_debited integer;
CREATE INDEX attempts_provider_call ON attempts (provider_call_id) WHERE provider_call_id IS NOT NULL;
CREATE INDEX callbacks_active_updated ON callbacks (updated_at) WHERE status IN ('queued', 'scheduled', 'dialing', 'retry_wait');
