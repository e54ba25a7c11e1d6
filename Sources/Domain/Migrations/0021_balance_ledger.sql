-- Every change of a site's call minutes is a ledger entry; the balance is their sum, kept in
-- sites.balance_minutes by the trigger below (an 'opening' entry states the balance a site had
-- before the ledger, or was created with, and moves nothing). One entry per key per site: a
-- credit or debit delivered twice is one entry (`BalanceLedger`).
CREATE TABLE ledger (
    id bigserial PRIMARY KEY,
    site_id uuid NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('opening', 'top_up', 'promo', 'referral', 'call', 'adjustment')),
    minutes integer NOT NULL,
    entry_key text NOT NULL CHECK (length(entry_key) BETWEEN 1 AND 200),
    note text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, entry_key)
);

INSERT INTO ledger (site_id, kind, minutes, entry_key, note)
SELECT id, 'opening', balance_minutes, 'opening', 'the balance before the ledger' FROM sites;

CREATE FUNCTION redial_ledger_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> 'opening' THEN
        UPDATE sites SET balance_minutes = balance_minutes + NEW.minutes WHERE id = NEW.site_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER ledger_apply AFTER INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION redial_ledger_apply();

-- Promo codes: minutes granted once per site (the ledger's key `promo:<CODE>`), until they expire.
CREATE TABLE promo_codes (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z0-9-]{3,32}$'),
    minutes integer NOT NULL CHECK (minutes BETWEEN 1 AND 100000),
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Who referred a site: both are credited once, when its first top-up lands.
ALTER TABLE sites ADD COLUMN referred_by uuid REFERENCES sites(id) ON DELETE SET NULL;
