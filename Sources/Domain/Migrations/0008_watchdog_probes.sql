-- What the watchdog reads besides the callbacks: the attempts that ended recently (the
-- carrier's answer ratio) and when a background service last finished a pass (the reconciler).
CREATE INDEX attempts_ended ON attempts (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE service_passes (
    service text PRIMARY KEY,
    passed_at timestamptz NOT NULL
);
