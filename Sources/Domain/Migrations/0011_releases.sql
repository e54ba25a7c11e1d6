-- The release path: a beta release soaks against production over a window before it may be
-- promoted. One row per release; every action on it (start, refused or forced promotion,
-- promotion, rollback) in release_events, with who and why.
CREATE TABLE releases (
    version text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    window_seconds double precision NOT NULL CHECK (window_seconds > 0),
    -- Each queue's counters when the soak began (the gate compares deltas, both channels alike).
    baseline jsonb NOT NULL,
    state text NOT NULL DEFAULT 'soaking' CHECK (state IN ('soaking', 'promoted', 'rolled_back')),
    ended_at timestamptz
);
-- At most one release soaks at a time.
CREATE UNIQUE INDEX releases_one_soaking ON releases (state) WHERE state = 'soaking';

CREATE TABLE release_events (
    id bigserial PRIMARY KEY,
    version text NOT NULL REFERENCES releases (version),
    action text NOT NULL CHECK (action IN ('start', 'refused', 'promote', 'rollback')),
    actor text NOT NULL,
    forced boolean NOT NULL DEFAULT false,
    reason text,
    verdict jsonb,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX release_events_version ON release_events (version, at);
