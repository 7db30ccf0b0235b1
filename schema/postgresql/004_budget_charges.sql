-- vidbatch ledger on PostgreSQL, schema version 4: the SQLite ledger's schema/009.
-- Create admission records the estimated cost it charged each job; what the ledger has spent is
-- the sum of the charges of the jobs sent or claimed for a create, counted at each admission.
ALTER TABLE jobs ADD COLUMN charged_usd double precision;  -- NULL: never charged

CREATE INDEX jobs_charged ON jobs (state, submitted_at, remote_id, lease_owner, charged_usd)
  WHERE charged_usd IS NOT NULL;
CREATE INDEX jobs_uncharged ON jobs (id)
  WHERE charged_usd IS NULL AND (state IN ('submitting', 'ambiguous') OR submitted_at <> 0 OR
                                remote_id <> '');
