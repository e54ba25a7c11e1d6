-- Notifications, recordings and reports (issue #8).

-- The owner's phone (low-balance SMS; the first manager's when unset), the balance levels that
-- warn the owner when a debit crosses them, and how long call recordings are kept.
ALTER TABLE sites ADD COLUMN owner_phone text;
ALTER TABLE sites ADD COLUMN low_balance_thresholds integer[] NOT NULL DEFAULT '{60,10}';
ALTER TABLE sites ADD COLUMN recording_retention_days integer NOT NULL DEFAULT 90
    CHECK (recording_retention_days BETWEEN 1 AND 3650);

-- Follow-up jobs decided inside a flow transaction carry their own dedup key (a trigger may
-- fan out several jobs per callback); NULL keeps the relay's `<type>:<callback id>`.
ALTER TABLE outbox ADD COLUMN dedup_key text;

-- Every SMS and email sent, with the delivery status the provider reported.
CREATE TABLE deliveries (
    effect_key text PRIMARY KEY REFERENCES effects (effect_key),
    channel text NOT NULL CHECK (channel IN ('sms', 'email')),
    site_id uuid NOT NULL REFERENCES sites (id),
    message text NOT NULL,
    recipient text NOT NULL,
    provider_id text,
    status text NOT NULL CHECK (status IN ('sent', 'delivered', 'undelivered')),
    detail text,
    sent_at timestamptz NOT NULL DEFAULT now(),
    status_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_pending ON deliveries (sent_at) WHERE status = 'sent';

-- Call recordings copied to object storage: where, how big, and the SHA-256 the upload was
-- verified against. `deleted_at` is set by the retention job once the object is gone.
CREATE TABLE recordings (
    callback_id uuid NOT NULL REFERENCES callbacks (id),
    attempt integer NOT NULL,
    site_id uuid NOT NULL REFERENCES sites (id),
    source_url text NOT NULL,
    bucket text NOT NULL,
    object_key text NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 text NOT NULL,
    etag text NOT NULL,
    parts integer NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    PRIMARY KEY (callback_id, attempt)
);
CREATE INDEX recordings_live ON recordings (site_id, uploaded_at) WHERE deleted_at IS NULL;
