-- vidbatch ledger, schema version 10: the limits the workers learnt from a provider's answers,
-- shared by all of them. NULL: none learnt yet (no worker was refused for pacing); then the
-- configured limits alone apply. Admission caps the provider's jobs in flight at
-- min(max_in_flight, learnt_in_flight) and, where interval_ms is 0 (limits.submits_per_minute
-- "auto"), paces creates at learnt_per_minute.
ALTER TABLE provider_limits ADD COLUMN learnt_in_flight REAL;
ALTER TABLE provider_limits ADD COLUMN learnt_per_minute REAL;
