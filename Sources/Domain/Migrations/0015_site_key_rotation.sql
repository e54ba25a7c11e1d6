-- A site key can be rotated: the new key's hash replaces key_hash, the old one stays valid as
-- previous_key_hash until previous_key_expires_at (the time an owner needs to change the widget
-- snippet), or until revoked. Additive: an older build knows only key_hash, the current key.
ALTER TABLE sites ADD COLUMN previous_key_hash text, ADD COLUMN previous_key_expires_at timestamptz,
                  ADD COLUMN key_rotated_at timestamptz;
CREATE UNIQUE INDEX sites_previous_key ON sites (previous_key_hash) WHERE previous_key_hash IS NOT NULL;
