-- The relay's wake-up: a transaction that adds outbox rows notifies `redial_outbox` when it
-- commits, so the relay moves them at once instead of at its next poll (which stays, as the
-- fallback for a lost listening connection). One notification per statement, folded by
-- PostgreSQL into one per transaction.
CREATE FUNCTION redial_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('redial_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION redial_outbox_notify();
