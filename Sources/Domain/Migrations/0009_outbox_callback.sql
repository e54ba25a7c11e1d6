-- The reconciler looks up each stale callback's outbox rows (its pending row, its latest run_at).
-- Without this index every look-up scanned the whole outbox: the watchdog's reconciler probe
-- found passes taking 12 s in a chaos run whose database had kept earlier runs' rows.
CREATE INDEX outbox_callback ON outbox (callback_id);
