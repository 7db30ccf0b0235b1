-- vidbatch ledger, schema version 2.
-- Reconciliation asks whether a listed remote video already belongs to a job.
CREATE INDEX jobs_by_remote_id ON jobs (remote_id) WHERE remote_id <> '';
