// Internal to src/store: the SQLite implementation of JobStore, created by
// JobStore::open for a file path. Split over sqlite_job_store.cpp (open and writes),
// sqlite_job_reads.cpp (queries), sqlite_leases.cpp (workers, claims, admission, rescue),
// sqlite_characters.cpp and sqlite_unclaimed.cpp. Every write is one IMMEDIATE transaction,
// which serializes it against every other process's: on one host, claims need no row locks.
// Not thread-safe: one connection per object.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/job_store.h"
#include "store/ledger_rules.h"

namespace vb::store_detail {

Result<std::unique_ptr<JobStore>> open_sqlite_store(const std::string& path, SyncMode sync);
Result<std::unique_ptr<JobStore>> open_sqlite_for_reading(const std::string& path);
Result<std::unique_ptr<LedgerLock>> lock_sqlite_ledger(const std::string& path);

class SqliteJobStore final : public JobStore {
 public:
  // `sync` as the connection was configured with (a reader's: SyncMode::normal, it commits
  // nothing).
  SqliteJobStore(std::unique_ptr<SQLite::Database> db, std::string path, SyncMode sync);
  ~SqliteJobStore() override;
  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  Result<ImportSummary> import_jobs(const std::string& batch, const std::vector<JobSpec>& jobs,
                                    Millis now, bool allow_spec_changes) override;
  Status apply(std::span<const Transition> transitions) override;
  Status note_activity(std::int64_t row_id, int polls, int retries) override;
  Result<bool> note_progress(std::int64_t row_id, JobState state, double progress, Millis at,
                             const std::optional<Lease>& lease) override;
  Result<std::vector<JobRecord>> jobs_in_states(std::span<const JobState> states,
                                                std::int64_t after_row_id, int limit) override;
  Result<std::optional<JobRecord>> find_job(const std::string& batch,
                                            const std::string& job_id) override;
  Result<std::vector<JobRecord>> list_jobs(const JobFilter& filter) override;
  Status for_each_job(const JobFilter& filter,
                      const std::function<Status(const JobRecord&)>& visit) override;
  Result<std::vector<StateCount>> count_states() override;
  Result<std::vector<MismatchCount>> count_mismatched() override;
  Result<std::int64_t> latest_event_id() override;
  Result<std::vector<std::string>> unfinished_providers() override;
  Status import_characters(const std::vector<CharacterRecord>& characters, Millis now) override;
  Result<std::optional<CharacterRecord>> find_character(const std::string& provider,
                                                        const std::string& name) override;
  Status set_character_state(const std::string& provider, const std::string& name,
                             CharacterState from, CharacterState to, const std::string& remote_id,
                             Millis now) override;
  Status note_unclaimed(const std::vector<UnclaimedVideo>& videos) override;
  Result<std::vector<UnclaimedVideo>> unclaimed_videos(
      const std::optional<std::string>& batch) override;
  Status record_take(const std::string& provider, const std::string& remote_id,
                     const std::string& path) override;
  Result<std::vector<JobRecord>> jobs_with_prompts(
      const std::vector<std::string>& prompts) override;
  Result<std::vector<EventRecord>> events(std::optional<std::int64_t> row_id) override;
  Result<std::vector<EventRecord>> batch_events(const std::string& batch) override;
  Result<Millis> last_entered(std::int64_t row_id, JobState state) override;
  Result<std::vector<std::string>> known_remote_ids(
      const std::vector<std::string>& remote_ids) override;
  Result<std::vector<TransitionOutcome>> apply_each(
      std::span<const Transition> transitions) override;

  Result<Millis> database_now() override;
  Status register_worker(const std::string& id, const std::string& host, int pid,
                         Millis ttl_ms) override;
  Result<Heartbeat> heartbeat(const std::string& id, Millis ttl_ms) override;
  Result<std::vector<ReleasedJob>> release_worker(const std::string& id) override;
  Result<std::vector<WorkerRecord>> list_workers() override;
  Result<RescueReport> rescue_expired_workers() override;
  Status set_provider_limits(const std::string& provider, const ProviderLimits& limits) override;
  Status lower_learnt_limit(const std::string& provider, LearntLimit limit, double value) override;
  Result<bool> raise_learnt_limit(const std::string& provider, LearntLimit limit, double seen,
                                  double value) override;
  Result<Admission> admit_creates(const std::string& worker, const WorkScope& scope, int want,
                                  const CreateBudget* budget) override;
  Result<std::vector<ClaimedJob>> claim_jobs(const std::string& worker, const WorkScope& scope,
                                             std::span<const JobState> states, int limit) override;
  Result<int> release_leases(std::span<const LeasedJob> jobs, Millis defer_ms) override;
  Result<RecordedAnswer> record_create_answer(const Transition& answer,
                                              const std::string& provider) override;
  Result<bool> hold_leadership(const std::string& duty, const std::string& worker,
                               Millis ttl_ms) override;
  Status release_leadership(const std::string& duty, const std::string& worker) override;
  Status defer_durability(bool defer) override;
  std::function<Status()> commit_syncer() override;

 private:
  // Prepared once per store: apply() is the hot path.
  struct Statements {
    explicit Statements(SQLite::Database& db);
    SQLite::Statement update_job;
    SQLite::Statement insert_event;
    SQLite::Statement job_identity;
    SQLite::Statement note_activity;
    SQLite::Statement find_batch;
    SQLite::Statement insert_batch;
    SQLite::Statement batch_jobs;
    SQLite::Statement insert_job;
    SQLite::Statement replace_spec;
    SQLite::Statement put_check;
    SQLite::Statement remove_check;
    SQLite::Statement put_url;
    SQLite::Statement remove_url;
  };

  // Import steps (throw SQLite::Exception; the caller's transaction rolls back).
  std::optional<std::int64_t> find_batch_id(const std::string& batch);
  std::int64_t ensure_batch(const std::string& batch, Millis now);
  std::unordered_map<std::string, ExistingJob> load_batch_jobs(std::int64_t batch_id);
  void insert_job(std::int64_t batch_id, const JobSpec& spec, const std::string& json, Millis now);
  void replace_spec(std::int64_t row_id, const JobSpec& spec, const std::string& json, Millis now);

  // Apply steps: false when the compare-and-set found the job elsewhere.
  bool apply_one(const Transition& transition);
  void write_check(std::int64_t row_id, const VideoCheck& check);
  void write_url(std::int64_t row_id, const DownloadUrl& download);
  void insert_event(std::int64_t row_id, Millis at, std::optional<JobState> from, JobState to,
                    std::optional<double> progress, int http_status, const std::string& message,
                    const std::string& worker);
  // nullopt when no job has this row id.
  std::optional<JobIdentity> identify_job(std::int64_t row_id);
  Error lost_transition(const Transition& transition);

  // Lease steps, inside the caller's IMMEDIATE transaction.
  Millis now_in_transaction();
  bool worker_alive(const std::string& worker);
  std::vector<ClaimedJob> claim_in_transaction(const std::string& worker, const WorkScope& scope,
                                               const std::string& state_list, int limit,
                                               Millis now);
  // How many of `allowed` queued jobs of `scope` the budget admits, and their charges.
  BudgetFit fit_in_transaction(const WorkScope& scope, int allowed, Millis now,
                               const CreateBudget& budget, Admission& admission);
  std::vector<ReleasedJob> release_jobs_of(const std::string& worker, bool expired, Millis now);

  Result<std::vector<JobRecord>> read_jobs(SQLite::Statement& query);
  Result<std::vector<EventRecord>> read_events(SQLite::Statement& query);

  std::string m_path;
  SyncMode m_sync;
  bool m_deferring = false;
  std::unique_ptr<SQLite::Database> m_db;
  std::unique_ptr<Statements> m_statements;  // declared after m_db: finalized before closing
};

}  // namespace vb::store_detail
