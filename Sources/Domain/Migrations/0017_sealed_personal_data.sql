-- Personal data sealed at rest (docs/encryption-at-rest.md). callbacks.phone and .name, the sites'
-- managers and owner_phone, deliveries.recipient and pages.phone now hold `v1.<key id>.<…>`:
-- AES-256-GCM under REDIAL_DATA_KEYS, opened only by the processes that hold the ring. A callback's
-- number is found by its keyed hash (phone_lookup: the one active callback per number, the abuse
-- limiter's counts) and by its last four digits (phone_tail: the console's search). Rows written
-- before are sealed by `redial migrate` right after this migration, and by `data.reseal`.
-- breaking: a build before this one reads these columns as clear text and would dial a sealed value
ALTER TABLE callbacks ADD COLUMN phone_lookup text;
ALTER TABLE callbacks ADD COLUMN phone_tail text;

DROP INDEX callbacks_one_active_per_phone;
CREATE UNIQUE INDEX callbacks_one_active_per_number ON callbacks (site_id, phone_lookup)
    WHERE status IN ('queued', 'scheduled', 'dialing', 'retry_wait');
DROP INDEX callbacks_phone_created;
CREATE INDEX callbacks_lookup_created ON callbacks (phone_lookup, created_at);
CREATE INDEX callbacks_phone_tail ON callbacks (phone_tail, created_at);

-- pages.phone is a record, never read back (whom to tell comes from the on-call settings): kept
-- masked as the console shows numbers (PhoneMask), so the database holds no on-call number.
UPDATE pages SET phone = left(phone, 5) || repeat('•', length(phone) - 7) || right(phone, 2)
    WHERE length(phone) > 7 AND position('•' IN phone) = 0;
