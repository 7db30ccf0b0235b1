#include "store/sqlite_job_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "store/migrations.h"
#include "store/sqlite_util.h"

namespace vb::store_detail {

namespace {

constexpr int k_busy_timeout_ms = 5000;

// Optional fields use COALESCE(?, column): an unbound (NULL) parameter keeps the column.
constexpr const char* k_update_job_sql = R"sql(
UPDATE jobs SET state = ?1,
  remote_id = COALESCE(?2, remote_id), progress = COALESCE(?3, progress),
  not_before = COALESCE(?4, not_before), submitted_at = COALESCE(?5, submitted_at),
  completed_at = COALESCE(?6, completed_at), downloaded_at = COALESCE(?7, downloaded_at),
  output_path = COALESCE(?8, output_path), bytes = COALESCE(?9, bytes),
  sha256 = COALESCE(?10, sha256), error_code = COALESCE(?11, error_code),
  error_message = COALESCE(?12, error_message), attempt = attempt + ?13, updated_at = ?14,
  polls = polls + ?17, retries = retries + ?18,
  lease_owner = CASE WHEN ?19 THEN NULL ELSE lease_owner END,
  lease_token = CASE WHEN ?19 THEN NULL ELSE lease_token END
WHERE id = ?15 AND state = ?16
  AND (?20 IS NULL OR (?20 = '' AND lease_owner IS NULL)
       OR (lease_owner = ?20 AND lease_token = ?21 AND (?22 = 0 OR EXISTS (
       SELECT 1 FROM workers w WHERE w.id = ?20 AND w.expires_at > )sql" VB_SQLITE_NOW_MS "))))";

constexpr const char* k_insert_event_sql = R"sql(
INSERT INTO events (job_id, at, from_state, to_state, progress, http_status, message, worker)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql";

constexpr const char* k_job_identity_sql = R"sql(
SELECT b.name || '/' || j.job_key, j.state, coalesce(j.lease_owner, ''),
       coalesce(j.lease_token, 0)
FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE j.id = ?1)sql";

constexpr const char* k_insert_job_sql = R"sql(
INSERT INTO jobs (batch_id, job_key, spec_json, model, size, seconds, orientation, prompt,
                  provider, state, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, 'queued', ?9, ?9))sql";

constexpr const char* k_replace_spec_sql = R"sql(
UPDATE jobs SET spec_json = ?1, model = ?2, size = ?3, seconds = ?4, orientation = ?5,
  prompt = ?6, updated_at = ?7, provider = ?9
WHERE id = ?8 AND state = 'queued')sql";

constexpr const char* k_put_check_sql = R"sql(
INSERT OR REPLACE INTO video_checks (job_id, checked_at, verdict, mismatches, probed, container,
  has_video, video_codec, duration_ms, width, height, frame_rate, has_audio, audio_codec)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14))sql";

// Switching a new file to WAL needs it alone: a worker started beside another on a new ledger
// gets SQLITE_BUSY at once, without the busy handler, so the switch is retried for as long as
// the busy timeout. A file already in WAL (every open after the first) needs no switch.
std::string switch_to_wal(SQLite::Database& db) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(k_busy_timeout_ms);
  for (;;) {
    try {
      if (const std::string mode = db.execAndGet("PRAGMA journal_mode").getString();
          mode == "wal") {
        return mode;
      }
      return db.execAndGet("PRAGMA journal_mode = WAL").getString();
    } catch (const SQLite::Exception& e) {
      if (e.getErrorCode() != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) {
        throw;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status configure_connection(SQLite::Database& db, SyncMode sync, const std::string& path) {
  return guard_sql(path, [&]() -> Status {
    db.exec("PRAGMA page_size = 16384");  // a new file only (a WAL file's pages keep their size)
    const std::string mode = switch_to_wal(db);
    // ":memory:" databases report "memory"; they cannot use WAL and need not.
    if (mode != "wal" && mode != "memory") {
      return fail(ErrorCode::database,
                  "cannot switch the database to WAL mode (journal_mode stays '" + mode +
                      "'); put it on a local filesystem",
                  path);
    }
    db.exec(sync_pragma(sync));
    // SQLite's default cache is 2 MB, 125 of our 16 KiB pages: a run's reads of its jobs and
    // their index went back to the file (a pread each, through the WAL index) after every
    // commit. Pages are allocated as used, so a small ledger costs no more.
    db.exec("PRAGMA cache_size = -16384");
    db.exec("PRAGMA foreign_keys = ON");
    return {};
  });
}

}  // namespace

SqliteJobStore::Statements::Statements(SQLite::Database& db)
    : update_job(db, k_update_job_sql),
      insert_event(db, k_insert_event_sql),
      job_identity(db, k_job_identity_sql),
      note_activity(db, "UPDATE jobs SET polls = polls + ?1, retries = retries + ?2 WHERE id = ?3"),
      find_batch(db, "SELECT id FROM batches WHERE name = ?1"),
      insert_batch(db, "INSERT INTO batches (name, created_at) VALUES (?1, ?2)"),
      batch_jobs(db, "SELECT id, job_key, spec_json, state FROM jobs WHERE batch_id = ?1"),
      insert_job(db, k_insert_job_sql),
      replace_spec(db, k_replace_spec_sql),
      put_check(db, k_put_check_sql),
      remove_check(db, "DELETE FROM video_checks WHERE job_id = ?1"),
      put_url(db,
              "INSERT OR REPLACE INTO download_urls (job_id, url, expires_at, recorded_at) "
              "VALUES (?1, ?2, ?3, ?4)"),
      remove_url(db, "DELETE FROM download_urls WHERE job_id = ?1") {}

SqliteJobStore::SqliteJobStore(std::unique_ptr<SQLite::Database> db, std::string path,
                               SyncMode sync)
    : m_path(std::move(path)),
      m_sync(sync),
      m_db(std::move(db)),
      m_statements(std::make_unique<Statements>(*m_db)) {}

SqliteJobStore::~SqliteJobStore() = default;

// ---- import ----------------------------------------------------------------

Result<ImportSummary> SqliteJobStore::import_jobs(const std::string& batch,
                                                  const std::vector<JobSpec>& jobs, Millis now,
                                                  bool allow_spec_changes) {
  return guard_sql(m_path, [&]() -> Result<ImportSummary> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    const std::optional<std::int64_t> batch_id = find_batch_id(batch);
    const auto known = batch_id ? load_batch_jobs(*batch_id)
                                : std::unordered_map<std::string, ExistingJob>{};
    auto plan = VB_TRY(plan_import(batch, jobs, known, allow_spec_changes));
    ImportSummary summary{batch, 0, plan.unchanged, 0};
    const std::int64_t id = batch_id ? *batch_id : ensure_batch(batch, now);
    for (const ImportStep& step : plan.steps) {
      if (step.replace_row_id == 0) {
        insert_job(id, *step.spec, step.json, now);
        ++summary.added;
      } else {
        replace_spec(step.replace_row_id, *step.spec, step.json, now);
        ++summary.replaced;
      }
    }
    transaction.commit();
    return summary;
  });
}

std::optional<std::int64_t> SqliteJobStore::find_batch_id(const std::string& batch) {
  SQLite::Statement& query = m_statements->find_batch;
  StatementReset reset(query);
  query.bind(1, batch);
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return query.getColumn(0).getInt64();
}

std::int64_t SqliteJobStore::ensure_batch(const std::string& batch, Millis now) {
  SQLite::Statement& insert = m_statements->insert_batch;
  StatementReset reset(insert);
  insert.bind(1, batch);
  insert.bind(2, now);
  insert.exec();
  return m_db->getLastInsertRowid();
}

std::unordered_map<std::string, ExistingJob> SqliteJobStore::load_batch_jobs(
    std::int64_t batch_id) {
  std::unordered_map<std::string, ExistingJob> known;
  SQLite::Statement& query = m_statements->batch_jobs;
  StatementReset reset(query);
  query.bind(1, batch_id);
  while (query.executeStep()) {
    known.emplace(query.getColumn(1).getString(),
                  ExistingJob{query.getColumn(0).getInt64(), query.getColumn(2).getString(),
                              query.getColumn(3).getString()});
  }
  return known;
}

void SqliteJobStore::insert_job(std::int64_t batch_id, const JobSpec& spec, const std::string& json,
                                Millis now) {
  SQLite::Statement& insert = m_statements->insert_job;
  {
    StatementReset reset(insert);
    insert.bind(1, batch_id);
    insert.bind(2, spec.id);
    insert.bind(3, json);
    insert.bind(4, spec.model);
    insert.bind(5, spec.size);
    insert.bind(6, spec.seconds);
    insert.bind(7, to_string(spec.orientation));
    insert.bind(8, spec.prompt);
    insert.bind(9, now);
    insert.bind(10, spec.provider);
    insert.exec();
  }
  insert_event(m_db->getLastInsertRowid(), now, std::nullopt, JobState::queued, std::nullopt, 0,
               "imported", "");
}

void SqliteJobStore::replace_spec(std::int64_t row_id, const JobSpec& spec, const std::string& json,
                                  Millis now) {
  SQLite::Statement& update = m_statements->replace_spec;
  {
    StatementReset reset(update);
    update.bind(1, json);
    update.bind(2, spec.model);
    update.bind(3, spec.size);
    update.bind(4, spec.seconds);
    update.bind(5, to_string(spec.orientation));
    update.bind(6, spec.prompt);
    update.bind(7, now);
    update.bind(8, row_id);
    update.bind(9, spec.provider);
    update.exec();  // the plan saw the job queued inside this same transaction
  }
  insert_event(row_id, now, JobState::queued, JobState::queued, std::nullopt, 0, "spec replaced",
               "");
}

// ---- transitions -----------------------------------------------------------

Status SqliteJobStore::apply(std::span<const Transition> transitions) {
  if (transitions.empty()) {
    return {};
  }
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    for (const Transition& transition : transitions) {
      if (!is_allowed_transition(transition.from, transition.to)) {
        return std::unexpected(
            transition_error(transition, identify_job(transition.row_id), false));
      }
      if (!apply_one(transition)) {
        return std::unexpected(lost_transition(transition));  // ~Transaction rolls back
      }
    }
    transaction.commit();
    return {};
  });
}

Result<std::vector<TransitionOutcome>> SqliteJobStore::apply_each(
    std::span<const Transition> transitions) {
  std::vector<TransitionOutcome> outcomes;
  if (transitions.empty()) {
    return outcomes;
  }
  return guard_sql(m_path, [&]() -> Result<std::vector<TransitionOutcome>> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    outcomes.reserve(transitions.size());
    for (const Transition& transition : transitions) {
      if (!is_allowed_transition(transition.from, transition.to)) {
        return std::unexpected(
            transition_error(transition, identify_job(transition.row_id), false));
      }
      outcomes.push_back(apply_one(transition) ? TransitionOutcome::applied
                                               : TransitionOutcome::lost);
    }
    transaction.commit();
    return outcomes;
  });
}

bool SqliteJobStore::apply_one(const Transition& t) {
  const JobUpdate& u = t.update;
  SQLite::Statement& update = m_statements->update_job;
  int changed = 0;
  {
    StatementReset reset(update);
    update.bind(1, to_string(t.to));
    bind_optional(update, 2, u.remote_id);
    bind_optional(update, 3, u.progress);
    bind_optional(update, 4, u.not_before);
    bind_optional(update, 5, u.submitted_at);
    bind_optional(update, 6, u.completed_at);
    bind_optional(update, 7, u.downloaded_at);
    bind_optional(update, 8, u.output_path);
    bind_optional(update, 9, u.bytes);
    bind_optional(update, 10, u.sha256);
    bind_optional(update, 11, u.error_code);
    bind_optional(update, 12, u.error_message);
    update.bind(13, u.increment_attempt ? 1 : 0);
    update.bind(14, t.at);
    update.bind(15, t.row_id);
    update.bind(16, to_string(t.from));
    update.bind(17, u.add_polls);
    update.bind(18, u.add_retries);
    update.bind(19, releases_lease(t) ? 1 : 0);
    if (t.lease) {
      update.bind(20, t.lease->owner);
      update.bind(21, t.lease->token);
    } else {
      update.bind(20);
      update.bind(21);
    }
    update.bind(22, t.to == JobState::submitting ? 1 : 0);
    changed = update.exec();
  }
  // Compare-and-set: zero rows means the job left `from` or its lease (or never existed).
  if (changed != 1) {
    return false;
  }
  if (u.check) {
    write_check(t.row_id, *u.check);
  }
  if (u.download) {
    write_url(t.row_id, *u.download);
  }
  insert_event(t.row_id, t.at, t.from, t.to, u.progress, t.http_status, t.message,
               t.lease ? t.lease->owner : std::string());
  return true;
}

Error SqliteJobStore::lost_transition(const Transition& t) {
  return transition_error(t, identify_job(t.row_id), true);
}

void SqliteJobStore::write_url(std::int64_t row_id, const DownloadUrl& download) {
  SQLite::Statement& statement = download.url.empty() ? m_statements->remove_url
                                                      : m_statements->put_url;
  StatementReset reset(statement);
  statement.bind(1, row_id);
  if (!download.url.empty()) {
    statement.bind(2, download.url);
    statement.bind(3, download.expires_at);
    statement.bind(4, download.recorded_at);
  }
  statement.exec();
}

void SqliteJobStore::write_check(std::int64_t row_id, const VideoCheck& c) {
  if (!c.checked()) {
    SQLite::Statement& remove = m_statements->remove_check;
    StatementReset reset(remove);
    remove.bind(1, row_id);
    remove.exec();
    return;
  }
  SQLite::Statement& put = m_statements->put_check;
  StatementReset reset(put);
  put.bind(1, row_id);
  put.bind(2, c.checked_at);
  put.bind(3, c.verdict);
  put.bind(4, c.mismatches);
  put.bind(5, c.probed ? 1 : 0);
  put.bind(6, c.container);
  put.bind(7, c.has_video ? 1 : 0);
  put.bind(8, c.video_codec);
  put.bind(9, c.duration_ms);
  put.bind(10, c.width);
  put.bind(11, c.height);
  put.bind(12, c.frame_rate);
  put.bind(13, c.has_audio ? 1 : 0);
  put.bind(14, c.audio_codec);
  put.exec();
}

std::optional<JobIdentity> SqliteJobStore::identify_job(std::int64_t row_id) {
  SQLite::Statement& query = m_statements->job_identity;
  StatementReset reset(query);
  query.bind(1, row_id);
  if (!query.executeStep()) {
    return std::nullopt;
  }
  return JobIdentity{query.getColumn(0).getString(), query.getColumn(1).getString(),
                     query.getColumn(2).getString(), query.getColumn(3).getInt64()};
}

void SqliteJobStore::insert_event(std::int64_t row_id, Millis at, std::optional<JobState> from,
                                  JobState to, std::optional<double> progress, int http_status,
                                  const std::string& message, const std::string& worker) {
  SQLite::Statement& insert = m_statements->insert_event;
  StatementReset reset(insert);
  insert.bind(1, row_id);
  insert.bind(2, at);
  if (from) {
    insert.bind(3, to_string(*from));
  } else {
    insert.bind(3);
  }
  insert.bind(4, to_string(to));
  bind_optional(insert, 5, progress);
  insert.bind(6, http_status);
  insert.bind(7, message);
  insert.bind(8, worker);
  insert.exec();
}

Status SqliteJobStore::note_activity(std::int64_t row_id, int polls, int retries) {
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement& update = m_statements->note_activity;
    StatementReset reset(update);
    update.bind(1, polls);
    update.bind(2, retries);
    update.bind(3, row_id);
    if (update.exec() != 1) {
      return fail(ErrorCode::not_found, "no job has row id " + std::to_string(row_id),
                  "job row " + std::to_string(row_id));
    }
    transaction.commit();
    return {};
  });
}

// Not a prepared statement of Statements: a stream's progress is written at most every 2 s.
Result<bool> SqliteJobStore::note_progress(std::int64_t row_id, JobState state, double progress,
                                           Millis at, const std::optional<Lease>& lease) {
  return guard_sql(m_path, [&]() -> Result<bool> {
    SQLite::Statement update(*m_db, R"sql(
UPDATE jobs SET progress = ?1, updated_at = ?2 WHERE id = ?3 AND state = ?4
  AND (?5 IS NULL OR (?5 = '' AND lease_owner IS NULL)
       OR (lease_owner = ?5 AND lease_token = ?6)))sql");
    update.bind(1, progress);
    update.bind(2, at);
    update.bind(3, row_id);
    update.bind(4, to_string(state));
    if (lease) {
      update.bind(5, lease->owner);
      update.bind(6, lease->token);
    }
    return update.exec() == 1;
  });
}

Result<std::vector<std::string>> SqliteJobStore::unfinished_providers() {
  return guard_sql(m_path, [&]() -> Result<std::vector<std::string>> {
    SQLite::Statement query(*m_db,
                            "SELECT DISTINCT coalesce(json_extract(spec_json, '$.provider'), '') "
                            "FROM jobs WHERE state NOT IN ('done', 'failed', 'canceled')");
    std::vector<std::string> names;
    while (query.executeStep()) {
      names.push_back(query.getColumn(0).getString());
    }
    return names;
  });
}

// ---- open ------------------------------------------------------------------

namespace {

// Identity is checked first: WAL mode and migrations write, and a foreign or newer file must
// stay untouched.
Result<std::unique_ptr<SQLite::Database>> open_database(const std::string& path, int flags) {
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(path, flags, k_busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    Error error = database_error(e, path);
    error.message = "cannot open the database: " + error.message;
    return std::unexpected(std::move(error));
  }
  VB_TRY(check_database_identity(*db, path));
  return db;
}

// The flock(2) of "<path>.lock": the kernel releases it when the process dies.
class FileLock final : public LedgerLock {
 public:
  explicit FileLock(int fd) : m_fd(fd) {}
  ~FileLock() override { ::close(m_fd); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int m_fd;
};

}  // namespace

Result<std::unique_ptr<JobStore>> open_sqlite_store(const std::string& path, SyncMode sync) {
  std::unique_ptr<SQLite::Database> db =
      VB_TRY(open_database(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE));
  VB_TRY(configure_connection(*db, sync, path));
  VB_TRY(migrate(*db, path));
  return guard_sql(path, [&]() -> Result<std::unique_ptr<JobStore>> {
    return std::make_unique<SqliteJobStore>(std::move(db), path, sync);
  });
}

Result<std::unique_ptr<JobStore>> open_sqlite_for_reading(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<SQLite::Database> db = VB_TRY(open_database(path, SQLite::OPEN_READONLY));
    auto current = guard_sql(path, [&]() -> Result<bool> {
      return schema_version(*db) == latest_schema_version();
    });
    if (!current) {
      return std::unexpected(std::move(current.error()));
    }
    if (*current || attempt > 0) {
      return guard_sql(path, [&]() -> Result<std::unique_ptr<JobStore>> {
        return std::make_unique<SqliteJobStore>(std::move(db), path, SyncMode::normal);
      });
    }
    db.reset();
    // An older ledger: migrate it once.
    VB_TRY(open_sqlite_store(path, SyncMode::full));
  }
}

Result<std::unique_ptr<LedgerLock>> lock_sqlite_ledger(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return fail(ErrorCode::io, std::string("cannot open the lock file: ") + std::strerror(errno),
                lock_path);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(ErrorCode::busy,
                "another vidbatch process is already running on this database; wait for it "
                "or stop it (it keeps its place: `vidbatch resume` continues later)",
                path);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    const ssize_t ignored = ::write(fd, pid.data(), pid.size());
    (void)ignored;  // the pid is informational only
  }
  return std::unique_ptr<LedgerLock>(std::make_unique<FileLock>(fd));
}

}  // namespace vb::store_detail
