-- vidbatch ledger, schema version 3.
-- `status` and the run's start count jobs per batch and state: with this index the GROUP BY
-- walks the index alone, in order, instead of sorting every row of the jobs table. Reads of one
-- batch's jobs in one state (report --batch B --state S, the ambiguous list of `status`) find
-- them here in row order.
CREATE INDEX jobs_by_batch_state ON jobs (batch_id, state);
