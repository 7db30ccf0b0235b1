-- vidbatch ledger, schema version 3: indexes for reading a large ledger.
-- `status` and the run's start count jobs per batch and state: with jobs_by_batch_state the
-- GROUP BY walks the index in order instead of sorting every row of the jobs table, and the
-- jobs of one batch in one state (the ambiguous list of `status`, report --batch B --state S)
-- are found there in row order.
CREATE INDEX jobs_by_batch_state ON jobs (batch_id, state);
-- Reports list jobs by batch name, then row: batch by batch through this index (row order
-- within a batch) they need no sort, which for 100k jobs spilled 50 MB to a temporary file.
-- State changes never touch it, so the run's transitions do not pay for it.
CREATE INDEX jobs_by_batch ON jobs (batch_id);
