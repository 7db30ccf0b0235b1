-- vidbatch ledger on PostgreSQL, schema version 5: the SQLite ledger's schema/010.
-- The limits the workers learnt from a provider's answers, shared by all of them; NULL: none
-- learnt yet.
ALTER TABLE provider_limits ADD COLUMN learnt_in_flight double precision;
ALTER TABLE provider_limits ADD COLUMN learnt_per_minute double precision;
