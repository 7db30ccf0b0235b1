-- vidbatch ledger, schema version 1.
--
-- Applied by src/store/migrations.cpp inside one IMMEDIATE transaction, which
-- then sets PRAGMA user_version = 1 and PRAGMA application_id = 0x56424348
-- ('VBCH', marks the file as a vidbatch ledger). Files are embedded into the
-- binary at build time; never edit a released file, add NNN_next.sql instead.
--
-- Conventions: times are int64 milliseconds since the Unix epoch (UTC), 0 when
-- not yet known. Job states are the text names of vb::JobState ("queued",
-- "submitting", ...). There is deliberately no CHECK on them: adding a state
-- must not force a rebuild of the jobs table; the store rejects unknown names
-- when it reads a row. Text columns use '' for "none", so reads need no NULL
-- handling; only progress and events.from_state use NULL.

-- One row per manifest batch (the batch name given at import).
CREATE TABLE batches (
  id         INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

-- One row per video. spec_json (JobSpec::canonical_json()) is the identity of
-- the job and the source of truth for its spec; model, size, seconds,
-- orientation and prompt are copies of spec fields so that reports and filters
-- need not parse JSON.
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  batch_id      INTEGER NOT NULL REFERENCES batches(id),
  job_key       TEXT    NOT NULL,            -- JobSpec::id, unique in its batch
  spec_json     TEXT    NOT NULL,
  model         TEXT    NOT NULL,
  size          TEXT    NOT NULL,
  seconds       INTEGER NOT NULL,
  orientation   TEXT    NOT NULL,
  prompt        TEXT    NOT NULL,
  state         TEXT    NOT NULL,
  attempt       INTEGER NOT NULL DEFAULT 0,  -- create requests sent so far
  remote_id     TEXT    NOT NULL DEFAULT '', -- exactly as the provider returned it
  progress      REAL,                        -- 0..100, NULL when unknown
  not_before    INTEGER NOT NULL DEFAULT 0,  -- earliest time of the next action
  created_at    INTEGER NOT NULL,
  submitted_at  INTEGER NOT NULL DEFAULT 0,
  completed_at  INTEGER NOT NULL DEFAULT 0,
  downloaded_at INTEGER NOT NULL DEFAULT 0,
  output_path   TEXT    NOT NULL DEFAULT '',
  bytes         INTEGER NOT NULL DEFAULT 0,
  sha256        TEXT    NOT NULL DEFAULT '',
  error_code    TEXT    NOT NULL DEFAULT '',
  error_message TEXT    NOT NULL DEFAULT '',
  polls         INTEGER NOT NULL DEFAULT 0,
  retries       INTEGER NOT NULL DEFAULT 0,  -- retried requests of any phase
  updated_at    INTEGER NOT NULL,
  UNIQUE (batch_id, job_key)
);

-- The scheduler pages through jobs by state in row order.
CREATE INDEX jobs_by_state ON jobs (state, id);

-- Append-only history: one row per state change, plus the creation event
-- (from_state NULL, to_state 'queued') and spec replacements (queued -> queued).
CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs(id),
  at          INTEGER NOT NULL,
  from_state  TEXT,                          -- NULL for the creation event
  to_state    TEXT    NOT NULL,
  progress    REAL,
  http_status INTEGER NOT NULL DEFAULT 0,    -- 0 = no HTTP answer involved
  message     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX events_by_job ON events (job_id, id);
