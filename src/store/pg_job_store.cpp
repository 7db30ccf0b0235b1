#include "store/pg_job_store.h"

#include <algorithm>
#include <utility>

namespace vb::store_detail {

namespace {

// Transitions per round trip: bounds what waits in the socket buffers of both sides (a
// blocking pipeline that outgrew them would stall).
constexpr std::size_t k_pipeline_chunk = 100;

// Compare-and-set on state (and lease) with its event, one statement: 1 row applied, 0 lost.
// Optional fields use COALESCE($n, column): a NULL parameter keeps the column.
constexpr PgStatement k_apply_transition = {"vb_apply_transition", R"sql(
WITH t AS (
  UPDATE jobs SET state = $1,
    remote_id = COALESCE($2, remote_id), progress = COALESCE($3::double precision, progress),
    not_before = COALESCE($4::bigint, not_before),
    submitted_at = COALESCE($5::bigint, submitted_at),
    completed_at = COALESCE($6::bigint, completed_at),
    downloaded_at = COALESCE($7::bigint, downloaded_at),
    output_path = COALESCE($8, output_path), bytes = COALESCE($9::bigint, bytes),
    sha256 = COALESCE($10, sha256), error_code = COALESCE($11, error_code),
    error_message = COALESCE($12, error_message), attempt = attempt + $13::integer,
    updated_at = $14::bigint, polls = polls + $17::integer, retries = retries + $18::integer,
    lease_owner = CASE WHEN $19::boolean THEN NULL ELSE lease_owner END,
    lease_token = CASE WHEN $19::boolean THEN NULL ELSE lease_token END
  WHERE id = $15::bigint AND state = $16
    AND ($20::text IS NULL OR ($20 = '' AND lease_owner IS NULL)
         OR (lease_owner = $20 AND lease_token = $21::bigint
         AND (NOT $22::boolean OR EXISTS (
           SELECT 1 FROM workers w WHERE w.id = $20 AND w.expires_at > vb_now_ms()))))
  RETURNING id),
-- The video check ($25 its verdict): NULL keeps the job's check, '' removes it, else it is put.
dropped AS (DELETE FROM video_checks WHERE $25::text = '' AND job_id IN (SELECT id FROM t)),
checked AS (
  INSERT INTO video_checks (job_id, checked_at, verdict, mismatches, probed, container, has_video,
                            video_codec, duration_ms, width, height, frame_rate, has_audio,
                            audio_codec)
  SELECT id, $26::bigint, $25, $27, $28::integer, $29, $30::integer, $31, $32::bigint,
         $33::integer, $34::integer, $35::double precision, $36::integer, $37
  FROM t WHERE $25 <> ''
  ON CONFLICT (job_id) DO UPDATE SET checked_at = excluded.checked_at,
    verdict = excluded.verdict, mismatches = excluded.mismatches, probed = excluded.probed,
    container = excluded.container, has_video = excluded.has_video,
    video_codec = excluded.video_codec, duration_ms = excluded.duration_ms,
    width = excluded.width, height = excluded.height, frame_rate = excluded.frame_rate,
    has_audio = excluded.has_audio, audio_codec = excluded.audio_codec),
-- The download URL ($38): NULL keeps the job's, '' removes it, else it is put.
unlisted AS (DELETE FROM download_urls WHERE $38::text = '' AND job_id IN (SELECT id FROM t)),
listed AS (
  INSERT INTO download_urls (job_id, url, expires_at, recorded_at)
  SELECT id, $38, $39::bigint, $40::bigint FROM t WHERE $38 <> ''
  ON CONFLICT (job_id) DO UPDATE SET url = excluded.url, expires_at = excluded.expires_at,
    recorded_at = excluded.recorded_at)
INSERT INTO events (job_id, at, from_state, to_state, progress, http_status, message, worker)
SELECT id, $14::bigint, $16, $1, $3::double precision, $23::integer, $24, COALESCE($20, '')
FROM t RETURNING job_id)sql"};

constexpr PgStatement k_insert_job = {"vb_insert_job", R"sql(
WITH j AS (
  INSERT INTO jobs (batch_id, job_key, spec_json, model, size, seconds, orientation, prompt,
                    provider, state, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $10) RETURNING id)
INSERT INTO events (job_id, at, from_state, to_state, message)
SELECT id, $10, NULL, 'queued', 'imported' FROM j)sql"};

constexpr PgStatement k_replace_spec = {"vb_replace_spec", R"sql(
WITH j AS (
  UPDATE jobs SET spec_json = $3, model = $4, size = $5, seconds = $6, orientation = $7,
    prompt = $8, provider = $9, updated_at = $10
  WHERE id = $1 AND job_key = $2 AND state = 'queued' RETURNING id)
INSERT INTO events (job_id, at, from_state, to_state, message)
SELECT id, $10, 'queued', 'queued', 'spec replaced' FROM j)sql"};

// $25-$37 of k_apply_transition: the check's verdict ("" removes the job's check) and fields,
// or all NULL to keep it.
void add_check_params(PgParams& p, const std::optional<VideoCheck>& check) {
  if (!check) {
    for (int i = 0; i < 13; ++i) {
      p.null();
    }
    return;
  }
  const VideoCheck& c = *check;
  p.add(c.verdict)
      .add(c.checked_at)
      .add(c.mismatches)
      .add(c.probed ? 1 : 0)
      .add(c.container)
      .add(c.has_video ? 1 : 0)
      .add(c.video_codec)
      .add(c.duration_ms)
      .add(c.width)
      .add(c.height)
      .add(c.frame_rate)
      .add(c.has_audio ? 1 : 0)
      .add(c.audio_codec);
}

// $38-$40 of k_apply_transition: the download URL ("" removes the job's), or all NULL to keep it.
void add_url_params(PgParams& p, const std::optional<DownloadUrl>& download) {
  if (!download) {
    p.null().null().null();
    return;
  }
  p.add(download->url).add(download->expires_at).add(download->recorded_at);
}

PgParams transition_params(const Transition& t) {
  const JobUpdate& u = t.update;
  PgParams p;
  p.add(to_string(t.to))
      .add(u.remote_id)
      .add(u.progress)
      .add(u.not_before)
      .add(u.submitted_at)
      .add(u.completed_at)
      .add(u.downloaded_at)
      .add(u.output_path)
      .add(u.bytes)
      .add(u.sha256)
      .add(u.error_code)
      .add(u.error_message)
      .add(u.increment_attempt ? 1 : 0)
      .add(t.at)
      .add(t.row_id)
      .add(to_string(t.from))
      .add(u.add_polls)
      .add(u.add_retries)
      .add(releases_lease(t));
  if (t.lease) {
    p.add(t.lease->owner).add(t.lease->token);
  } else {
    p.null().null();
  }
  p.add(t.to == JobState::submitting).add(t.http_status).add(t.message);
  add_check_params(p, u.check);
  add_url_params(p, u.download);
  return p;
}

// $1 batch id, $2 job key ... $10 now: the parameters of k_insert_job and k_replace_spec ($1 is
// the row id for a replacement).
PgParams job_params(std::int64_t id, const JobSpec& spec, const std::string& json, Millis now) {
  PgParams p;
  p.add(id)
      .add(spec.id)
      .add(json)
      .add(spec.model)
      .add(spec.size)
      .add(spec.seconds)
      .add(to_string(spec.orientation))
      .add(spec.prompt)
      .add(spec.provider)
      .add(now);
  return p;
}

// Runs prepared statements pipelined, k_pipeline_chunk per round trip; fails on the first error.
Status run_pipelined(PgConnection& db,
                     const std::vector<std::pair<const PgStatement*, PgParams>>& statements) {
  for (std::size_t start = 0; start < statements.size(); start += k_pipeline_chunk) {
    PgPipeline pipeline(db);
    const std::size_t end = std::min(statements.size(), start + k_pipeline_chunk);
    for (std::size_t i = start; i < end; ++i) {
      if (auto sent = pipeline.send(*statements[i].first, statements[i].second); !sent) {
        return sent;
      }
    }
    VB_TRY(pipeline.sync());
  }
  return {};
}

// A session advisory lock: held while its connection lives.
class AdvisoryLock final : public LedgerLock {
 public:
  explicit AdvisoryLock(std::unique_ptr<PgConnection> db) : m_db(std::move(db)) {}

 private:
  std::unique_ptr<PgConnection> m_db;  // the lock lives as long as its session
};

}  // namespace

PgJobStore::PgJobStore(std::unique_ptr<PgConnection> db) : m_db(std::move(db)) {}

// ---- open ------------------------------------------------------------------

Result<std::unique_ptr<JobStore>> open_pg_store(const std::string& url, bool read_only) {
  auto db = VB_TRY(PgConnection::connect(url, JobStore::display_location(url)));
  auto version = VB_TRY(pg_schema_version(*db));
  if (read_only && version == 0) {
    return fail(ErrorCode::not_found,
                "no vidbatch ledger in this database; run a manifest first or give the URL of "
                "a ledger",
                (db)->location());
  }
  VB_TRY(pg_migrate(*db));
  if (read_only) {
    VB_TRY((db)->exec("SET default_transaction_read_only = on"));
  }
  return std::unique_ptr<JobStore>(std::make_unique<PgJobStore>(std::move(db)));
}

Result<bool> pg_ledger_exists(const std::string& url) {
  auto db = VB_TRY(PgConnection::connect(url, JobStore::display_location(url)));
  auto version = VB_TRY(pg_schema_version(*db));
  return version > 0;
}

Result<std::unique_ptr<LedgerLock>> lock_pg_ledger(const std::string& url) {
  auto db = VB_TRY(PgConnection::connect(url, JobStore::display_location(url)));
  auto locked = VB_TRY((db)->exec("SELECT pg_try_advisory_lock(1447183176, 1)"));
  if (!locked.boolean(0, 0)) {
    return fail(ErrorCode::busy,
                "another vidbatch process is already running on this database; wait for it "
                "or stop it (it keeps its place: `vidbatch resume` continues later)",
                (db)->location());
  }
  return std::unique_ptr<LedgerLock>(std::make_unique<AdvisoryLock>(std::move(db)));
}

// ---- import ----------------------------------------------------------------

Result<ImportSummary> PgJobStore::import_jobs(const std::string& batch,
                                              const std::vector<JobSpec>& jobs, Millis now,
                                              bool allow_spec_changes) {
  auto transaction = VB_TRY(PgTransaction::begin(*m_db));
  // The batch row, locked: imports of one batch by several processes run one at a time.
  auto batch_row =
      VB_TRY(m_db->exec("WITH ins AS (INSERT INTO batches (name, created_at) VALUES ($1, $2) "
                        "ON CONFLICT (name) DO NOTHING RETURNING id) "
                        "SELECT id FROM ins UNION ALL SELECT id FROM batches WHERE name = $1",
                        PgParams().add(batch).add(now)));
  const std::int64_t batch_id = batch_row.int64(0, 0);
  auto locked =
      m_db->exec("SELECT id FROM batches WHERE id = $1 FOR UPDATE", PgParams().add(batch_id));
  auto rows = VB_TRY(locked ? m_db->exec("SELECT id, job_key, spec_json, state FROM jobs "
                                         "WHERE batch_id = $1",
                                         PgParams().add(batch_id))
                            : std::move(locked));
  std::unordered_map<std::string, ExistingJob> known;
  for (int r = 0; r < rows.rows(); ++r) {
    known.emplace(rows.text(r, 1), ExistingJob{rows.int64(r, 0), rows.text(r, 2), rows.text(r, 3)});
  }
  auto plan = VB_TRY(plan_import(batch, jobs, known, allow_spec_changes));
  ImportSummary summary{batch, 0, plan.unchanged, 0};
  std::vector<std::pair<const PgStatement*, PgParams>> statements;
  statements.reserve(plan.steps.size());
  for (const ImportStep& step : plan.steps) {
    const bool insert = step.replace_row_id == 0;
    statements.emplace_back(insert ? &k_insert_job : &k_replace_spec,
                            job_params(insert ? batch_id : step.replace_row_id, *step.spec,
                                       step.json, now));
    ++(insert ? summary.added : summary.replaced);
  }
  for (const PgStatement* statement : {&k_insert_job, &k_replace_spec}) {
    VB_TRY(m_db->prepare(*statement));
  }
  VB_TRY(run_pipelined(*m_db, statements));
  VB_TRY(transaction.commit());
  return summary;
}

// ---- transitions -----------------------------------------------------------

Status PgJobStore::apply(std::span<const Transition> transitions) {
  return status_of(run_transitions(transitions, true));
}

Result<std::vector<TransitionOutcome>> PgJobStore::apply_each(
    std::span<const Transition> transitions) {
  return run_transitions(transitions, false);
}

Result<std::vector<TransitionOutcome>> PgJobStore::run_transitions(
    std::span<const Transition> transitions, bool all_or_nothing) {
  std::vector<TransitionOutcome> outcomes;
  if (transitions.empty()) {
    return outcomes;
  }
  for (const Transition& t : transitions) {
    if (!is_allowed_transition(t.from, t.to)) {
      auto job = VB_TRY(identify_job(t.row_id));
      return std::unexpected(transition_error(t, job, false));
    }
  }
  VB_TRY(m_db->prepare(k_apply_transition));
  outcomes.reserve(transitions.size());
  for (std::size_t start = 0; start < transitions.size(); start += k_pipeline_chunk) {
    const std::size_t end = std::min(transitions.size(), start + k_pipeline_chunk);
    Result<std::vector<PgResult>> answers;
    {
      PgPipeline pipeline(*m_db);
      Status sent = start == 0 ? pipeline.send("BEGIN", PgParams()) : Status();
      for (std::size_t i = start; sent && i < end; ++i) {
        sent = pipeline.send(k_apply_transition, transition_params(transitions[i]));
      }
      const bool last = end == transitions.size();
      if (sent && last && !all_or_nothing) {
        sent = pipeline.send("COMMIT", PgParams());
      }
      answers = sent ? pipeline.sync() : std::unexpected(std::move(sent.error()));
    }
    if (!answers) {
      m_db->abandon_transaction();
      return std::unexpected(std::move(answers.error()));
    }
    const std::size_t first = start == 0 ? 1 : 0;  // the answer to BEGIN
    for (std::size_t i = start; i < end; ++i) {
      const bool applied = (*answers)[first + i - start].rows() == 1;
      if (!applied && all_or_nothing) {
        m_db->abandon_transaction();
        return std::unexpected(lost_transition(transitions[i]));
      }
      outcomes.push_back(applied ? TransitionOutcome::applied : TransitionOutcome::lost);
    }
  }
  if (all_or_nothing) {
    if (auto committed = m_db->exec("COMMIT"); !committed || committed->command() != "COMMIT") {
      m_db->abandon_transaction();
      return std::unexpected(committed ? Error{ErrorCode::database,
                                               "PostgreSQL rolled the transitions back", location()}
                                       : std::move(committed.error()));
    }
  }
  return outcomes;
}

Result<std::optional<JobIdentity>> PgJobStore::identify_job(std::int64_t row_id) {
  auto row = VB_TRY(
      m_db->exec("SELECT b.name || '/' || j.job_key, j.state, coalesce(j.lease_owner, ''), "
                 "coalesce(j.lease_token, 0) FROM jobs j JOIN batches b ON b.id = j.batch_id "
                 "WHERE j.id = $1",
                 PgParams().add(row_id)));
  if (row.rows() == 0) {
    return std::optional<JobIdentity>();
  }
  return JobIdentity{row.text(0, 0), row.text(0, 1), row.text(0, 2), row.int64(0, 3)};
}

Error PgJobStore::lost_transition(const Transition& t) {
  auto job = identify_job(t.row_id);
  if (!job) {
    return job.error();
  }
  return transition_error(t, *job, true);
}

Status PgJobStore::note_activity(std::int64_t row_id, int polls, int retries) {
  auto updated =
      VB_TRY(m_db->exec("UPDATE jobs SET polls = polls + $1, retries = retries + $2 WHERE id = $3",
                        PgParams().add(polls).add(retries).add(row_id)));
  if (updated.affected() != 1) {
    return fail(ErrorCode::not_found, "no job has row id " + std::to_string(row_id),
                "job row " + std::to_string(row_id));
  }
  return {};
}

Result<bool> PgJobStore::note_progress(std::int64_t row_id, JobState state, double progress,
                                       Millis at, const std::optional<Lease>& lease) {
  PgParams p;
  p.add(progress).add(at).add(row_id).add(to_string(state));
  if (lease) {
    p.add(lease->owner).add(lease->token);
  } else {
    p.null().null();
  }
  auto updated = VB_TRY(m_db->exec(
      "UPDATE jobs SET progress = $1::double precision, updated_at = $2::bigint "
      "WHERE id = $3::bigint AND state = $4 AND ($5::text IS NULL "
      "OR ($5 = '' AND lease_owner IS NULL) OR (lease_owner = $5 AND lease_token = $6::bigint))",
      p));
  return updated.affected() == 1;
}

}  // namespace vb::store_detail
