-- The API keeps a site found by its key for up to a second (`SiteKeyCache`); a change to a site
-- (a revoked or rotated key, a deactivation, its balance, its settings) notifies `redial_sites`
-- with the site's id when it commits, and every API drops that site at once.
CREATE FUNCTION redial_sites_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('redial_sites', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER sites_notify AFTER UPDATE OR DELETE ON sites FOR EACH ROW EXECUTE FUNCTION redial_sites_notify();
