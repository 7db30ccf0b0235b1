-- vidbatch ledger, schema version 6.
-- What each downloaded video turned out to be (its headers, read by src/probe) and whether that
-- is what its request asked for (config output.verify). One row per job, for the file the job
-- holds now: written in the transaction of the transition that saved the file, removed when
-- the user queues the job again.
CREATE TABLE video_checks (
  job_id      INTEGER PRIMARY KEY REFERENCES jobs(id),
  checked_at  INTEGER NOT NULL,
  verdict     TEXT    NOT NULL,            -- 'ok', or the mismatch codes, comma-separated
  mismatches  TEXT    NOT NULL DEFAULT '', -- one sentence per mismatch, newline-separated
  probed      INTEGER NOT NULL DEFAULT 0,  -- 1: the file's headers could be read
  container   TEXT    NOT NULL DEFAULT '',
  has_video   INTEGER NOT NULL DEFAULT 0,
  video_codec TEXT    NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL DEFAULT 0,
  width       INTEGER NOT NULL DEFAULT 0,
  height      INTEGER NOT NULL DEFAULT 0,
  frame_rate  REAL    NOT NULL DEFAULT 0,
  has_audio   INTEGER NOT NULL DEFAULT 0,
  audio_codec TEXT    NOT NULL DEFAULT ''
);
-- `status` and `retry --mismatched` find the few videos that differ without reading the rest.
CREATE INDEX video_checks_mismatched ON video_checks (job_id) WHERE verdict <> 'ok';
