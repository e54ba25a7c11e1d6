-- Origins a site's widget runs on: a request with another Origin (or none) is refused.
-- Empty: any origin, as before.
ALTER TABLE sites ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{}';
