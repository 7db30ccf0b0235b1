// Internal to src/store: the PostgreSQL implementation of JobStore, created by JobStore::open
// for a postgresql:// URL. One ledger shared by workers on many hosts: claims lock rows with
// FOR UPDATE SKIP LOCKED, create admission locks the provider's provider_limits row, and every
// lease time is the database clock (vb_now_ms()). Split over pg_job_store.cpp (open and
// writes), pg_job_reads.cpp (queries), pg_leases.cpp (workers, claims, admission, rescue) and
// pg_side_tables.cpp (characters, unclaimed videos). Not thread-safe: one connection per object.
#pragma once

#include <memory>
#include <string>

#include "store/job_store.h"
#include "store/ledger_rules.h"
#include "store/pg_connection.h"

namespace vb::store_detail {

Result<std::unique_ptr<JobStore>> open_pg_store(const std::string& url, bool read_only);
Result<bool> pg_ledger_exists(const std::string& url);
Result<std::unique_ptr<LedgerLock>> lock_pg_ledger(const std::string& url);

// Schema migrations (schema/postgresql/NNN_*.sql, versions in the vidbatch_schema table).
int pg_latest_schema_version();
// 0 when the database holds no vidbatch ledger.
Result<int> pg_schema_version(PgConnection& db);
// Applies every newer schema file in one transaction under an advisory lock (concurrent
// workers migrate once). Fails without writing when the database has vidbatch's table names
// but no vidbatch_schema table, or a schema newer than this build.
Status pg_migrate(PgConnection& db);

class PgJobStore final : public JobStore {
 public:
  explicit PgJobStore(std::unique_ptr<PgConnection> db);

  Result<ImportSummary> import_jobs(const std::string& batch, const std::vector<JobSpec>& jobs,
                                    Millis now, bool allow_spec_changes) override;
  Status apply(std::span<const Transition> transitions) override;
  Result<std::vector<TransitionOutcome>> apply_each(
      std::span<const Transition> transitions) override;
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
  Result<Millis> last_entered(std::int64_t row_id, JobState state) override;
  Result<std::vector<std::string>> known_remote_ids(
      const std::vector<std::string>& remote_ids) override;
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
  Result<std::vector<std::string>> unfinished_providers() override;
  Result<std::vector<EventRecord>> events(std::optional<std::int64_t> row_id) override;
  Result<std::vector<EventRecord>> batch_events(const std::string& batch) override;

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
  // Every commit is durable when it returns (synchronous_commit): nothing to defer.
  Status defer_durability(bool) override { return {}; }
  std::function<Status()> commit_syncer() override { return {}; }

 private:
  const std::string& location() const { return m_db->location(); }
  // Runs `transitions` in one transaction, pipelined; with `all_or_nothing` the first lost one
  // rolls everything back and becomes the error.
  Result<std::vector<TransitionOutcome>> run_transitions(std::span<const Transition> transitions,
                                                         bool all_or_nothing);
  Result<std::optional<JobIdentity>> identify_job(std::int64_t row_id);
  Error lost_transition(const Transition& transition);
  Result<std::vector<JobRecord>> query_jobs(const std::string& sql, const PgParams& params);
  Result<std::vector<EventRecord>> query_events(const std::string& sql, const PgParams& params);
  // admit_creates with a budget: statements of one transaction, the costs reckoned between.
  Result<Admission> admit_within_budget(const std::string& worker, const WorkScope& scope, int want,
                                        const CreateBudget& budget);
  // Charges the jobs sent without a charge, then sums what the ledger has spent.
  Result<double> spent_in_transaction(const CreateBudget& budget);
  // Rows of k_job_columns followed by the lease token, as claims.
  Result<std::vector<ClaimedJob>> read_claims(const PgResult& rows, const std::string& worker);
  // In one transaction: locks the workers `lock_sql` selects (their ids), releases their leases
  // and deletes them (k_release_sql); reaped worker ids go to `report` when given.
  Result<std::vector<ReleasedJob>> release_of(const std::string& lock_sql,
                                              const PgParams& lock_params, bool expired,
                                              RescueReport* report);

  std::unique_ptr<PgConnection> m_db;
};

}  // namespace vb::store_detail
