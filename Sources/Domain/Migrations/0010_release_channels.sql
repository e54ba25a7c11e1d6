-- Release channels: a site marked beta has its callbacks handled by beta workers (their own
-- queues); a share of the other sites' callbacks may go there too (REDIAL_BETA_SHARE). The
-- channel is decided once, at intake, and every job of the callback follows it.
ALTER TABLE sites ADD COLUMN channel text NOT NULL DEFAULT 'production' CHECK (channel IN ('production', 'beta'));
ALTER TABLE callbacks ADD COLUMN channel text NOT NULL DEFAULT 'production' CHECK (channel IN ('production', 'beta'));
