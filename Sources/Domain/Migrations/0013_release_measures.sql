-- What the release gate measures beyond the queues' counters, and what it keeps of an ended
-- release.

-- A release's comparison as it stood when it was promoted or rolled back: its report reads the
-- same afterwards (jobs beta's workers still finished, production's later ones, do not move it).
ALTER TABLE releases ADD COLUMN final_metrics jsonb;

-- The channel whose worker sent a message: notification delivery, beta against production.
ALTER TABLE deliveries ADD COLUMN release_channel text NOT NULL DEFAULT 'production'
    CHECK (release_channel IN ('production', 'beta'));

-- Alerts the watchdog saw in Alertmanager while a release soaked, put down to a channel by their
-- labels (a queue of `<name>@beta`, or channel="beta"); and how many looks it took, so a soak
-- nobody looked at is not read as a quiet one.
ALTER TABLE releases ADD COLUMN alert_looks integer NOT NULL DEFAULT 0;
CREATE TABLE release_alerts (
    version text NOT NULL REFERENCES releases (version),
    fingerprint text NOT NULL,
    name text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('production', 'beta')),
    first_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, fingerprint)
);
