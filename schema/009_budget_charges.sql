-- vidbatch ledger, schema version 9: the budget shared by every worker (limits.budget_usd).
-- Create admission records the estimated cost it charged each job; what the ledger has spent is
-- the sum of the charges of the jobs sent or claimed for a create, counted at each admission.
ALTER TABLE jobs ADD COLUMN charged_usd REAL;  -- NULL: never charged

-- Admission sums the charges (the predicate of k_charged_sql) from this index alone.
CREATE INDEX jobs_charged ON jobs (state, submitted_at, remote_id, lease_owner, charged_usd)
  WHERE charged_usd IS NOT NULL;
-- Jobs sent without a charge (by a version before this schema): charged once, at admission.
CREATE INDEX jobs_uncharged ON jobs (id)
  WHERE charged_usd IS NULL AND (state IN ('submitting', 'ambiguous') OR submitted_at <> 0 OR
                                remote_id <> '');
