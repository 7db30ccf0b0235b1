-- vidbatch ledger on PostgreSQL, schema version 3: the SQLite ledger's schema/008.
-- The URL each job's video is being downloaded from, and when the provider said it expires
-- (MiniMax's files/retrieve and the gateways' signed URLs do; OpenAI's content route needs none).
-- Written in the statement of the transition that starts the download, replaced or removed by
-- the next completion (a new generation has a new URL). A resumed `ready` job downloads from a
-- URL that is still valid; one whose URL has expired is resolved again, never generated again.
CREATE TABLE download_urls (
  job_id      bigint PRIMARY KEY REFERENCES jobs(id),
  url         text   NOT NULL,
  expires_at  bigint NOT NULL DEFAULT 0,  -- ms since the epoch; 0 = the answer did not say
  recorded_at bigint NOT NULL
);
