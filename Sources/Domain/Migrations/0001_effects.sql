-- The effect ledger: one row per external effect (a dial, an SMS, an email, an upload, a debit),
-- keyed by an effect key derived from the job. The unique key is what makes a replayed job
-- reconcile instead of acting twice (docs/design.md, "Idempotency").
CREATE TABLE effects (
    effect_key text PRIMARY KEY,
    state text NOT NULL CHECK (state IN ('pending', 'done')),
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
