-- Sign-in links of the owners' cabinet: a one-time token mailed to a site's address. Only the
-- token's SHA-256 is kept; a link works once, within its lifetime.
CREATE TABLE owner_links (
    token_hash text PRIMARY KEY,
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX owner_links_email ON owner_links (lower(email), created_at);
