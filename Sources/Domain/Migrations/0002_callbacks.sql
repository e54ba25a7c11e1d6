-- Sites, callbacks, their attempts, and the transactional outbox (docs/design.md, "The callback flow").

CREATE TABLE sites (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    -- SHA-256 (hex) of the site key: the key itself is shown once, at creation, and never stored.
    key_hash text NOT NULL UNIQUE,
    -- Manager phones (E.164) in ring order.
    managers text[] NOT NULL CHECK (cardinality(managers) > 0),
    timezone text NOT NULL,
    -- Working hours per ISO weekday: {"1": ["09:00", "18:00"], …}; a missing day is closed.
    hours jsonb NOT NULL,
    balance_minutes integer NOT NULL,
    email text,
    language text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'ru')),
    -- Calling code used for numbers typed without one ("7" accepts 8 (916) 123-45-67).
    default_country_code text,
    -- Calling codes the site serves; empty means every country not on the deny-list.
    served_country_codes text[] NOT NULL DEFAULT '{}',
    -- Overrides of the abuse limits (IntakeLimits field names → numbers).
    limits jsonb NOT NULL DEFAULT '{}',
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE callbacks (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id uuid NOT NULL REFERENCES sites (id),
    phone text NOT NULL,
    name text,
    page_url text,
    call_at timestamptz,
    status text NOT NULL CHECK (status IN ('queued', 'scheduled', 'dialing', 'retry_wait', 'completed', 'failed', 'canceled')),
    reason text,
    idempotency_key text,
    client_address text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A replayed Idempotency-Key finds the first callback.
CREATE UNIQUE INDEX callbacks_idempotency ON callbacks (site_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- One active callback per site and phone: a second request while it is active gets the same id.
CREATE UNIQUE INDEX callbacks_one_active_per_phone ON callbacks (site_id, phone)
    WHERE status IN ('queued', 'scheduled', 'dialing', 'retry_wait');
CREATE INDEX callbacks_site_created ON callbacks (site_id, created_at);

CREATE TABLE attempts (
    callback_id uuid NOT NULL REFERENCES callbacks (id),
    n integer NOT NULL CHECK (n > 0),
    outcome text,
    provider_call_id text,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    PRIMARY KEY (callback_id, n)
);

-- Written in the same transaction as the callback; the relay moves rows into the queue.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    callback_id uuid NOT NULL REFERENCES callbacks (id),
    job_type text NOT NULL,
    payload jsonb NOT NULL,
    -- Run no earlier than this (a requested call time); NULL means now.
    run_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    relayed_at timestamptz
);

CREATE INDEX outbox_pending ON outbox (id) WHERE relayed_at IS NULL;
