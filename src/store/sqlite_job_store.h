// Internal to src/store: the SQLite implementation of JobStore, created by
// JobStore::open. Split over sqlite_job_store.cpp (open and writes) and
// sqlite_job_reads.cpp (queries). Not thread-safe: one connection per object.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/job_store.h"

namespace vb::store_detail {

// What the database already holds for one job of the batch being imported.
struct ExistingJob {
  std::int64_t row_id = 0;
  std::string spec_json;
  std::string state;  // as stored; only "queued" may have its spec replaced
};

// A job named for messages ("batch/job") and the state it is in now.
struct JobIdentity {
  std::string name;
  std::string state;
};

class SqliteJobStore final : public JobStore {
 public:
  SqliteJobStore(std::unique_ptr<SQLite::Database> db, std::string path);
  ~SqliteJobStore() override;
  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  Result<ImportSummary> import_jobs(const std::string& batch, const std::vector<JobSpec>& jobs,
                                    Millis now, bool allow_spec_changes) override;
  Status apply(std::span<const Transition> transitions) override;
  Status note_activity(std::int64_t row_id, int polls, int retries) override;
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
  Result<std::vector<JobRecord>> jobs_with_prompts(const std::vector<std::string>& prompts) override;
  Result<std::vector<EventRecord>> events(std::optional<std::int64_t> row_id) override;
  Result<std::vector<EventRecord>> batch_events(const std::string& batch) override;
  Result<Millis> last_entered(std::int64_t row_id, JobState state) override;
  Result<std::vector<std::string>> known_remote_ids(
      const std::vector<std::string>& remote_ids) override;

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
  void replace_spec(std::int64_t row_id, const JobSpec& spec, const std::string& json,
                    Millis now);

  // Apply steps.
  Status apply_one(const Transition& transition);
  void write_check(std::int64_t row_id, const VideoCheck& check);
  void write_url(std::int64_t row_id, const DownloadUrl& download);
  void insert_event(std::int64_t row_id, Millis at, std::optional<JobState> from, JobState to,
                    std::optional<double> progress, int http_status, const std::string& message);
  // nullopt when no job has this row id.
  std::optional<JobIdentity> identify_job(std::int64_t row_id);
  Error transition_error(const Transition& transition, bool edge_allowed);

  Result<std::vector<JobRecord>> read_jobs(SQLite::Statement& query);
  Result<std::vector<EventRecord>> read_events(SQLite::Statement& query);

  std::string m_path;
  std::unique_ptr<SQLite::Database> m_db;
  std::unique_ptr<Statements> m_statements;  // declared after m_db: finalized before closing
};

}  // namespace vb::store_detail
