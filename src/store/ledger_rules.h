// Internal to src/store: what the SQLite and PostgreSQL ledgers decide alike, so that both keep
// one contract (store/job_store.h): import plans, conflict messages, the rescue rule, the GCRA
// admission arithmetic, and the SQL text both dialects accept. Pure: no database types here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/job_store.h"

namespace vb::store_detail {

// Column order read by read_job_row() (store/row_reading.h); valid SQL on both databases.
// The job `j`, its batch `b`, its video check `c` and its download URL `u` (LEFT JOINs: NULLs
// when never checked, when no URL is recorded).
#define VB_JOB_COLUMNS                                                                           \
  "SELECT j.id, b.name, j.spec_json, j.state, j.attempt, j.remote_id, j.progress, j.not_before," \
  " j.created_at, j.submitted_at, j.completed_at, j.downloaded_at, j.output_path, j.bytes,"      \
  " j.sha256, j.error_code, j.error_message, j.polls, j.retries,"                                \
  " c.verdict, c.mismatches, c.checked_at, c.probed, c.container, c.has_video, c.video_codec,"   \
  " c.duration_ms, c.width, c.height, c.frame_rate, c.has_audio, c.audio_codec,"                 \
  " u.url, u.expires_at, u.recorded_at"
inline constexpr const char* k_job_columns = VB_JOB_COLUMNS;
inline constexpr int k_job_column_count = 35;
#define VB_SIDE_JOINS \
  " LEFT JOIN video_checks c ON c.job_id = j.id LEFT JOIN download_urls u ON u.job_id = j.id "
inline constexpr const char* k_side_joins = VB_SIDE_JOINS;
inline constexpr const char* k_job_select = VB_JOB_COLUMNS
    " FROM jobs j JOIN batches b ON b.id = j.batch_id" VB_SIDE_JOINS;

// Column order read by read_event_row().
inline constexpr const char* k_event_select = R"sql(
SELECT e.id, e.job_id, b.name, j.job_key, e.at, e.from_state, e.to_state, e.progress,
       e.http_status, e.message, e.worker
FROM events e JOIN jobs j ON j.id = e.job_id JOIN batches b ON b.id = j.batch_id )sql";

// Jobs that count against a provider's in-flight cap: at the provider, or claimed for a
// create (so that a batch claim cannot over-admit). The predicate of the jobs_in_flight index:
// use it on an unaliased `jobs`.
inline constexpr const char* k_in_flight_sql =
    "(state IN ('submitting', 'submitted', 'running') OR "
    "(state = 'queued' AND lease_owner IS NOT NULL))";

// Jobs whose charge counts against the budget (CreateBudget): sent (`submitting`, `ambiguous`,
// or a create answer or a remote id stored) or claimed for a create. Uses the jobs_charged
// index: on an unaliased `jobs`.
inline constexpr const char* k_charged_sql =
    "charged_usd IS NOT NULL AND (state IN ('submitting', 'ambiguous') OR submitted_at <> 0 OR "
    "remote_id <> '' OR (state = 'queued' AND lease_owner IS NOT NULL))";
// Jobs sent without a charge (by a version before the budget was shared, or outside worker
// mode): the predicate of the jobs_uncharged index, on an unaliased `jobs`.
inline constexpr const char* k_uncharged_sql =
    "charged_usd IS NULL AND (state IN ('submitting', 'ambiguous') OR submitted_at <> 0 OR "
    "remote_id <> '')";
// The ledger-wide lock of budgeted admissions on PostgreSQL (SQLite's IMMEDIATE transactions
// serialize them anyway); the provider row lock alone would let two providers both spend.
inline constexpr const char* k_pg_budget_lock = "SELECT pg_advisory_xact_lock(1447183176, 2)";

// The rescue rule as a SQL expression of a job's `state`: submitting -> ambiguous (the create
// may have left: never queued), downloading -> ready, any other state stays.
inline constexpr const char* k_rescued_state_sql =
    "CASE state WHEN 'submitting' THEN 'ambiguous' WHEN 'downloading' THEN 'ready' "
    "ELSE state END";

// What the database already holds for one job of the batch being imported.
struct ExistingJob {
  std::int64_t row_id = 0;
  std::string spec_json;
  std::string state;  // as stored; only "queued" may have its spec replaced
};

struct ImportStep {
  const JobSpec* spec = nullptr;
  std::string json;
  std::int64_t replace_row_id = 0;  // 0: insert a new job
};

struct ImportPlan {
  std::vector<ImportStep> steps;
  int unchanged = 0;
};

// Decides, without writing, what importing `jobs` does. Fails with invalid_input for an id
// given twice, or with the first conflict (ErrorCode::conflict naming the job, and how many
// more jobs conflict).
Result<ImportPlan> plan_import(const std::string& batch, const std::vector<JobSpec>& jobs,
                               const std::unordered_map<std::string, ExistingJob>& known,
                               bool allow_spec_changes);

// A job named for messages ("batch/job"), its state and lease now.
struct JobIdentity {
  std::string name;
  std::string state;
  std::string lease_owner;  // "" when unleased
  std::int64_t lease_token = 0;
};

// Why `transition` was not applied, given the job as it is now (nullopt: no such job).
Error transition_error(const Transition& transition, const std::optional<JobIdentity>& job,
                       bool edge_allowed);

// Whether applying `transition` clears the job's lease.
bool releases_lease(const Transition& transition);

// The event message of a job whose lease was released, and the error text of a create that
// became ambiguous that way, as the text before and after the worker's id (SQL builds them
// per row). `expired`: reaped by a rescuer; otherwise its worker stopped.
struct AroundWorker {
  std::string before;
  std::string after;
  std::string with(const std::string& worker) const { return before + worker + after; }
};
AroundWorker release_message(bool expired);
AroundWorker release_ambiguous_message(bool expired);
inline constexpr const char* k_create_ambiguous = "create_ambiguous";

// The event message of a create answer recorded after its worker lost the job.
std::string late_answer_message(const std::string& worker);

// The limits admission applies: the in-flight cap lowered to the learnt one, and where no
// rate is configured (interval 0), the learnt rate's interval (rounded up).
ProviderLimits with_learnt(const ProviderLimits& limits, const LearntLimits& learnt);
// The provider_limits column of a learnt limit.
const char* learnt_column(LearntLimit limit);

// GCRA admission: how many of `want` creates may start at `now`, allowed while
// max(tat, now) + k * interval <= now + burst * interval (interval 0: no rate limit), and no
// more than `room`, what the in-flight cap leaves.
int gcra_allowed(const ProviderLimits& limits, Millis tat_ms, Millis now, int want,
                 std::int64_t room);
// The theoretical arrival time once `count` creates started at `now`.
Millis gcra_charge(const ProviderLimits& limits, Millis tat_ms, Millis now, int count);

// What a budget admits of `candidates` (in admission order) with `spent_usd` already charged:
// the charges of the first ones that fit under its limit. It stops at the first job that does
// not fit or has no price (`stopped`: candidates[charges.size()]), so creates stop in order.
struct BudgetFit {
  std::vector<double> charges;
  bool stopped = false;
};
BudgetFit fit_budget(std::span<const JobRecord> candidates, const CreateBudget& budget,
                     double spent_usd);
// The charge of a job sent without one: its cost, 0 when it has no price.
double legacy_charge(const JobSpec& spec, const CreateBudget& budget);

// invalid_input unless interval >= 0, burst >= 1 and max_in_flight >= 1.
Status check_limits(const std::string& provider, const ProviderLimits& limits);
Error no_limits(const std::string& provider, const std::string& where);
// invalid_input for a claim of queued (admit_creates) or submitting (its creator's) jobs.
Status check_claim_states(std::span<const JobState> states);
// invalid_input unless `answer` is submitting -> submitted | running | ready with a lease and
// a remote id.
Status check_create_answer(const Transition& answer);
// "'a', 'b'": state names for an IN list (fixed names, never user text).
std::string state_list_sql(std::span<const JobState> states);

std::optional<CharacterState> parse_character_state(const std::string& text);
Error character_conflict(const CharacterRecord& wanted, const std::string& known_video,
                         const std::string& where);
Error character_state_conflict(const std::string& name, CharacterState from,
                               const std::string& where);
Error unknown_unclaimed(const std::string& provider, const std::string& remote_id,
                        const std::string& where);
Error worker_exists(const std::string& id, const std::string& where);

}  // namespace vb::store_detail
