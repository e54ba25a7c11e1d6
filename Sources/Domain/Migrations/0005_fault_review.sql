-- What a review of the promise under faults asked of the schema.

-- A balance never goes below zero: the debit takes at most what is left (CallbackFlow), and
-- this constraint refuses any other writer that would.
UPDATE sites SET balance_minutes = 0 WHERE balance_minutes < 0;
ALTER TABLE sites ADD CONSTRAINT sites_balance_not_negative CHECK (balance_minutes >= 0);

-- The abuse limits per destination number hold across every site; when Redis cannot count,
-- intake counts here (IntakeLimiter), by number and by client, newest first.
CREATE INDEX callbacks_phone_created ON callbacks (phone, created_at);
CREATE INDEX callbacks_client_created ON callbacks (client_address, created_at) WHERE client_address IS NOT NULL;
