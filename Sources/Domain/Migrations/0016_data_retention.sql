-- How long a site's callbacks and everything about them (attempts, messages and their effects,
-- outbox rows, recordings) are kept: the nightly data.retention job purges what is older, after
-- adding it to callback_daily, which keeps only counts (no number, no name) for reports.
ALTER TABLE sites ADD COLUMN data_retention_days integer NOT NULL DEFAULT 365
    CHECK (data_retention_days BETWEEN 30 AND 3650);

CREATE TABLE callback_daily (
    site_id uuid NOT NULL REFERENCES sites (id),
    day date NOT NULL,
    accepted integer NOT NULL DEFAULT 0,
    completed integer NOT NULL DEFAULT 0,
    failed integer NOT NULL DEFAULT 0,
    canceled integer NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    answered integer NOT NULL DEFAULT 0,
    minutes_debited integer NOT NULL DEFAULT 0,
    messages integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day)
);

-- The purge's scan: ended callbacks by age.
CREATE INDEX callbacks_created ON callbacks (created_at);
