-- vidbatch ledger on PostgreSQL, schema version 2: the SQLite ledger's schema/006.
-- What each downloaded video turned out to be (its headers, read by src/probe) and whether that
-- is what its request asked for (config output.verify). One row per job, for the file the job
-- holds now: written in the statement of the transition that saved the file, removed when the
-- user queues the job again. Flags are integers 0/1, as in the SQLite ledger.
CREATE TABLE video_checks (
  job_id      bigint           PRIMARY KEY REFERENCES jobs(id),
  checked_at  bigint           NOT NULL,
  verdict     text             NOT NULL,            -- 'ok', or the mismatch codes, comma-separated
  mismatches  text             NOT NULL DEFAULT '', -- one sentence per mismatch, newline-separated
  probed      integer          NOT NULL DEFAULT 0,  -- 1: the file's headers could be read
  container   text             NOT NULL DEFAULT '',
  has_video   integer          NOT NULL DEFAULT 0,
  video_codec text             NOT NULL DEFAULT '',
  duration_ms bigint           NOT NULL DEFAULT 0,
  width       integer          NOT NULL DEFAULT 0,
  height      integer          NOT NULL DEFAULT 0,
  frame_rate  double precision NOT NULL DEFAULT 0,
  has_audio   integer          NOT NULL DEFAULT 0,
  audio_codec text             NOT NULL DEFAULT ''
);
-- `status` and `retry --mismatched` find the few videos that differ without reading the rest.
CREATE INDEX video_checks_mismatched ON video_checks (job_id) WHERE verdict <> 'ok';
