-- vidbatch ledger, schema version 7: workers and leases (docs/scale-out.md).
-- Several processes may work on one ledger: each registers a worker row and heartbeats it; a
-- job is claimed with a lease (lease_owner + lease_token, the fencing token of the claim), and
-- every owner transition is a compare-and-set on state, owner and token. Times come from the
-- database's clock. A lease always has both columns set or both NULL.
CREATE TABLE workers (
  id           TEXT    PRIMARY KEY,      -- host:pid:random
  host         TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL          -- heartbeat_at + ttl: dead once passed
);

-- A provider's create limits, shared by every worker: GCRA rate (interval_ms between creates,
-- burst back to back; tat_ms is the theoretical arrival time) and the in-flight cap.
CREATE TABLE provider_limits (
  provider      TEXT    PRIMARY KEY,     -- the config provider's name
  interval_ms   INTEGER NOT NULL,        -- 60000 / creates per minute; 0 = no rate limit
  burst         INTEGER NOT NULL,
  max_in_flight INTEGER NOT NULL,
  tat_ms        INTEGER NOT NULL DEFAULT 0
);

-- One leader per duty at a time (e.g. reconcile:<provider>), for as long as its lease runs.
CREATE TABLE leaders (
  duty       TEXT    PRIMARY KEY,
  worker     TEXT    NOT NULL,
  elected_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- The last fencing token drawn (one row).
CREATE TABLE lease_tokens (last INTEGER NOT NULL);
INSERT INTO lease_tokens VALUES (0);

-- The provider the job's spec names ('' = the default provider), for claims by provider.
ALTER TABLE jobs ADD COLUMN provider TEXT NOT NULL DEFAULT '';
UPDATE jobs SET provider = coalesce(json_extract(spec_json, '$.provider'), '');
-- The foreign key fences a reaped worker: it can no longer take a lease.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT REFERENCES workers(id);
ALTER TABLE jobs ADD COLUMN lease_token INTEGER;
-- The worker that wrote the event ('' outside leases).
ALTER TABLE events ADD COLUMN worker TEXT NOT NULL DEFAULT '';

CREATE INDEX jobs_claim ON jobs (provider, state, not_before, id) WHERE lease_owner IS NULL;
CREATE INDEX jobs_leased ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;
-- Admission counts a provider's jobs in flight (the predicate of k_in_flight_sql).
CREATE INDEX jobs_in_flight ON jobs (provider)
  WHERE state IN ('submitting', 'submitted', 'running')
     OR (state = 'queued' AND lease_owner IS NOT NULL);
