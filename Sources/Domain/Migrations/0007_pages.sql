-- Pages sent to on-call by the watchdog's Alertmanager receiver: one row per SMS, so a repeated
-- notification knows how long the incident has been paged and whether it was escalated, and a
-- resolved one knows whom to tell.
CREATE TABLE pages (
    id bigserial PRIMARY KEY,
    group_key text NOT NULL,
    status text NOT NULL CHECK (status IN ('firing', 'resolved')),
    contact text NOT NULL CHECK (contact IN ('primary', 'secondary')),
    phone text NOT NULL,
    body text NOT NULL,
    provider_id text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pages_group ON pages (group_key, sent_at);

-- Acknowledgements (`redial alerts ack`): an acknowledged alert is not paged again in its
-- incident, while Alertmanager still sends its resolution (a silence would swallow that too).
CREATE TABLE page_acks (
    fingerprint text NOT NULL,
    acked_at timestamptz NOT NULL DEFAULT now(),
    acked_by text NOT NULL
);
CREATE INDEX page_acks_fingerprint ON page_acks (fingerprint, acked_at);
