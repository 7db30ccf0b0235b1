-- vidbatch ledger, schema version 5.
-- Paid, unclaimed videos: listed by a provider, matching a job of this ledger, attached to none
-- (a duplicate the provider made anyway, or one from a crashed run of another tool). Seen by
-- reconciliation; `vidbatch adopt` downloads one as its job's alternative take (take_path).
-- A video some job later holds (jobs.remote_id) is no longer unclaimed: reads exclude it.
CREATE TABLE unclaimed_videos (
  id          INTEGER PRIMARY KEY,
  provider    TEXT    NOT NULL,           -- the config provider's name
  remote_id   TEXT    NOT NULL,
  job_id      INTEGER NOT NULL REFERENCES jobs(id),  -- the job whose spec it matches
  status      TEXT    NOT NULL,           -- the provider's word when last listed
  created_at  INTEGER NOT NULL,           -- at the provider (ms)
  seen_at     INTEGER NOT NULL,
  take_path   TEXT    NOT NULL DEFAULT '',
  UNIQUE (provider, remote_id)
);
