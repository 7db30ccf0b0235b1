// JobStore: the ledger, the system of record for every job and every state
// transition, on SQLite (a file: the embedded default) or PostgreSQL (a
// `postgresql://` URL: one ledger shared by workers on many hosts). All SQL of
// vidbatch lives in this module; SQLite and libpq types never leave it.
//
// Durability: every call that writes is one transaction: it commits whole or
// not at all. A transition is applied only if the job is still in its `from`
// state (compare-and-set), so a stale writer cannot overwrite newer state.
// SQLite: WAL mode, `synchronous` as configured (FULL by default), busy timeout
// 5 s, IMMEDIATE transactions. PostgreSQL: READ COMMITTED with row locks. The
// schema is migrated on open from the versioned SQL files of schema/ (SQLite,
// keyed on PRAGMA user_version) or schema/postgresql/ (the vidbatch_schema
// table), embedded at build time.
//
// Workers and leases (docs/scale-out.md): several processes may work on one
// ledger. Each registers a worker row and heartbeats it; jobs are claimed in
// batches with a lease (owner + fencing token); owner transitions are
// compare-and-set on state, owner and token. A rescuer, which any worker may
// run, reaps workers whose heartbeat expired: `submitting` becomes `ambiguous`
// (never `queued`), `downloading` becomes `ready`, every other job just loses
// its lease. Lease times come from the database's clock, never a host's.
//
// Not thread-safe: one JobStore per thread. A database error from a call that
// writes means its outcome is unknown (a connection lost at COMMIT): the caller
// must not act as if it were written, nor as if it were not.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "job/job_spec.h"
#include "job/job_state.h"
#include "probe/video_check.h"
#include "util/clock.h"
#include "util/error.h"

namespace vb {

// Where a job's video is downloaded from, as the provider's answer named it (schema 008).
struct DownloadUrl {
  std::string url;        // "" = none recorded
  Millis expires_at = 0;  // 0 = the answer did not say
  Millis recorded_at = 0;
};

struct JobRecord {
  std::int64_t row_id = 0;
  std::string batch;
  JobSpec spec;
  JobState state = JobState::queued;
  int attempt = 0;                 // create requests sent so far
  std::string remote_id;           // exactly as the provider's create answer gave it
  std::optional<double> progress;  // 0..100 when known
  Millis not_before = 0;           // earliest time of the next action (retry back-off)
  Millis created_at = 0;
  Millis submitted_at = 0;  // create answer stored
  Millis completed_at = 0;  // provider reported completion
  Millis downloaded_at = 0;
  std::string output_path;
  std::int64_t bytes = 0;
  std::string sha256;
  std::string error_code;
  std::string error_message;
  int polls = 0;
  int retries = 0;       // retried requests of any phase
  VideoCheck check;      // of the file at output_path; unchecked when verify is off
  DownloadUrl download;  // the URL of its last download, while the ledger holds one
};

// Field changes that travel with a state change; unset fields stay as they are.
struct JobUpdate {
  std::optional<std::string> remote_id;
  std::optional<double> progress;
  std::optional<Millis> not_before;
  std::optional<Millis> submitted_at;
  std::optional<Millis> completed_at;
  std::optional<Millis> downloaded_at;
  std::optional<std::string> output_path;
  std::optional<std::int64_t> bytes;
  std::optional<std::string> sha256;
  std::optional<std::string> error_code;     // "" clears
  std::optional<std::string> error_message;  // "" clears
  // The check of the file being saved; one with an empty verdict removes the job's check.
  std::optional<VideoCheck> check;
  // The URL a download starts from; one with an empty url removes the job's.
  std::optional<DownloadUrl> download;
  bool increment_attempt = false;
  int add_polls = 0;    // polls and retried requests since the last transition,
  int add_retries = 0;  // counted with it rather than in a transaction of their own
};

// A claim on a job: the worker holding it and the fencing token of this claim. Every claim
// draws a new token, so an owner whose lease was rescued and claimed again cannot write.
// A transition under a lease with an empty owner applies only while no worker holds the job.
struct Lease {
  std::string owner;  // a worker's id (register_worker); "": the job is unleased
  std::int64_t token = 0;
};

// What the ledger's row becomes under `update` (the store writes the same rule in SQL): set
// fields replace, unset ones stay, counters add. For in-memory copies of a row.
void apply_update(JobRecord& rec, const JobUpdate& update);

struct Transition {
  std::int64_t row_id = 0;
  JobState from = JobState::queued;
  JobState to = JobState::queued;
  Millis at = 0;
  int http_status = 0;  // 0 = none
  std::string message;
  JobUpdate update;
  // Set: an owner transition, applied only while the job holds this lease (and, into
  // `submitting`, only while its worker is alive by the database clock); the event names the
  // worker. Unset: a compare-and-set on `from` alone, whoever holds the job.
  std::optional<Lease> lease = std::nullopt;
  // Clears the lease with the state change (the job goes back to the pool). A transition into
  // a terminal state or `ambiguous` always clears it.
  bool release_lease = false;
};

struct EventRecord {
  std::int64_t id = 0;
  std::int64_t job_row_id = 0;
  std::string batch;
  std::string job_id;
  Millis at = 0;
  std::optional<JobState> from;  // nullopt for the creation event
  JobState to = JobState::queued;
  std::optional<double> progress;
  int http_status = 0;
  std::string message;
  std::string worker;  // the worker that wrote it; "" outside leases
};

struct ImportSummary {
  std::string batch;
  int added = 0;
  int unchanged = 0;
  int replaced = 0;  // only with allow_spec_changes, and only for jobs still queued
};

struct StateCount {
  std::string batch;
  JobState state = JobState::queued;
  std::int64_t count = 0;
};

struct JobFilter {
  std::optional<std::string> batch;
  std::optional<JobState> state;
  bool mismatched = false;  // only jobs whose video does not match its request
};

// Jobs of one batch whose video does not match its request (VideoCheck::mismatched).
struct MismatchCount {
  std::string batch;
  std::int64_t count = 0;
};

enum class CharacterState { pending, creating, created, ambiguous };

const char* to_string(CharacterState s);

// A character (cameo) of a provider, created once and then used by name.
struct CharacterRecord {
  std::string provider;  // the config provider's name (never "")
  std::string name;
  std::string video_path;
  CharacterState state = CharacterState::pending;
  std::string remote_id;  // set when created
  Millis updated_at = 0;
};

// A video a provider listed that matches a job of the ledger but is attached to none: paid
// for, and nobody's. Reconciliation records it; `vidbatch adopt` downloads it as a take.
struct UnclaimedVideo {
  std::string provider;  // the config provider's name
  std::string remote_id;
  std::int64_t job_row_id = 0;  // the job whose spec it matches
  std::string status;           // the provider's word when last listed
  Millis created_at = 0;        // at the provider
  Millis seen_at = 0;
  std::string take_path;  // where `vidbatch adopt` saved it; empty until then
  // Filled by reads, from the matching job:
  std::string batch;
  std::string job_id;
  JobSpec spec;
};

// ---- workers and leases ----------------------------------------------------

// A job a worker claimed, as it was when claimed, with the claim's lease.
struct ClaimedJob {
  JobRecord job;
  Lease lease;
};

// A job and the lease its worker holds on it.
struct LeasedJob {
  std::int64_t row_id = 0;
  Lease lease;
};

// Times are the database's clock.
struct WorkerRecord {
  std::string id;
  std::string host;
  int pid = 0;
  Millis started_at = 0;
  Millis heartbeat_at = 0;
  Millis expires_at = 0;
  std::int64_t leases = 0;  // jobs it holds now
};

struct Heartbeat {
  // False: the worker was declared dead (its lease expired, or a rescuer reaped it). It must
  // start no create from now on; answers already in flight go through record_late_answer.
  bool alive = false;
  Millis now = 0;         // the database clock when it answered
  Millis expires_at = 0;  // when alive: the new expiry
};

// The jobs one engine works on: those of one provider, optionally of one batch.
struct WorkScope {
  std::string provider;           // the provider's name in the config (provider_limits key)
  bool default_provider = false;  // it is the default provider: jobs naming none are its too
  std::optional<std::string> batch;
};

// A provider's create limits, shared by every worker of the ledger.
struct ProviderLimits {
  Millis interval_ms = 0;  // GCRA emission interval: 60000 / creates per minute; 0: none
  int burst = 1;           // creates allowed back to back (at least 1)
  int max_in_flight = 1;   // jobs held at the provider at once (at least 1)
};

// The limits the workers learnt from a provider's answers (engine/learned_limit.h), shared
// through the ledger: admission caps the provider's jobs in flight at the lower of
// max_in_flight and in_flight, and, where interval_ms is 0, paces creates at per_minute.
// nullopt: none learnt yet (no worker was refused for pacing).
struct LearntLimits {
  std::optional<double> in_flight;
  std::optional<double> per_minute;
};

// Which learnt limit a write is about.
enum class LearntLimit { in_flight, per_minute };

// limits.budget_usd, shared by every worker of the ledger: admit_creates charges each job it
// admits its estimated cost, and admits none past the limit. What counts as spent is counted
// from the ledger at each admission, over every provider and batch: the charge of each job sent
// (a create answer stored, or `submitting`, or `ambiguous`) or claimed for a create.
struct CreateBudget {
  double limit_usd = 0;
  // A job's estimated cost; nullopt when no price is known (admission stops at such a job).
  std::function<std::optional<double>(const JobSpec&)> cost;
};

// What admit_creates admitted.
struct Admission {
  std::vector<ClaimedJob> jobs;
  // With a budget: the first job that did not fit (or has no price), left queued and unleased;
  // admission stops there, as every later admission will while the spending stays.
  std::optional<JobRecord> over_budget;
  double spent_usd = 0;  // with a budget: charged before this admission
  LearntLimits learnt;   // the provider's shared learnt limits, as this admission used them
};

// A job a lease release moved (or just unleased).
struct ReleasedJob {
  std::int64_t row_id = 0;
  std::string worker;
  JobState from = JobState::queued;
  JobState to = JobState::queued;
};

struct RescueReport {
  std::vector<std::string> workers;  // reaped worker ids
  std::vector<ReleasedJob> jobs;     // their jobs, each released
};

enum class TransitionOutcome {
  applied,
  lost,  // the job is no longer in `from` under that lease (rescued, or moved by another)
};

// Where record_create_answer put a create's answer.
enum class RecordedAnswer {
  applied,           // the owner transition itself (the lease still held)
  late,              // the lease was lost: ambiguous -> submitted ("late create answer")
  already_attached,  // the job already holds this remote id
  unclaimed,         // the job moved on: the video is kept as an unclaimed video
};

// One table of a ledger copy (JobStore::copy_ledger).
struct CopiedTable {
  std::string table;
  std::int64_t rows = 0;
  std::uint64_t checksum = 0;  // FNV-1a 64 over every row's values in id order, both sides
};

enum class SyncMode { off, normal, full };

// Held while a process must be the only one writing a ledger: SQLite, an exclusive flock(2) on
// "<path>.lock"; PostgreSQL, a session advisory lock on a connection of its own. Released when
// destroyed or when the process dies (even by kill -9).
class LedgerLock {
 public:
  virtual ~LedgerLock() = default;
};

class JobStore {
 public:
  // `location` names the ledger: a PostgreSQL URL (postgresql://... or postgres://...; what the
  // URL leaves out comes from the PG* environment variables, as libpq reads them) or, for
  // anything else, a SQLite file path.
  static bool is_server_url(const std::string& location);
  // `location` fit for messages and logs: a URL's password is replaced by "***".
  static std::string display_location(const std::string& location);

  // Opens (creating if needed) and migrates the ledger at `location`. On PostgreSQL the
  // database must exist; its vidbatch tables are created. Fails with ErrorCode::database
  // naming the location, leaving it untouched when it is not a vidbatch ledger (a PostgreSQL
  // database with vidbatch's table names but no vidbatch_schema table) or is newer than this
  // build. `sync` applies to SQLite only.
  static Result<std::unique_ptr<JobStore>> open(const std::string& location,
                                                SyncMode sync = SyncMode::full);
  // Opens an existing ledger for reading only (status, jobs, events, report): nothing is
  // written, not even the checkpoint of the write-ahead log a stopped run left behind (the
  // next run does that). A ledger of an older schema is migrated first, through open().
  // Writes through the returned store fail with ErrorCode::database.
  static Result<std::unique_ptr<JobStore>> open_for_reading(const std::string& location);
  // Whether `location` holds a ledger: the file exists, or the database has vidbatch's
  // tables. ErrorCode::database when a server cannot be asked.
  static Result<bool> exists(const std::string& location);
  // The run lock (LedgerLock). Fails with ErrorCode::busy when another process holds it.
  static Result<std::unique_ptr<LedgerLock>> lock_exclusive(const std::string& location);
  // Copies the SQLite ledger at `from` into the PostgreSQL ledger at `to` (its tables created
  // if needed), keeping every row id: batches, jobs, events, characters and unclaimed videos
  // (not workers, limits or leases: they belong to running processes). One transaction,
  // compared row for row with the source before it commits; the source is only read.
  // ErrorCode::invalid_input unless `from` is a file path and `to` a URL; ErrorCode::conflict
  // when the target already holds rows; on that, a mismatch or any error, nothing is written.
  static Result<std::vector<CopiedTable>> copy_ledger(const std::string& from,
                                                      const std::string& to);
  virtual ~JobStore() = default;

  // Inserts the batch and its jobs (state queued, one creation event each) in one
  // transaction. Jobs already present with the same canonical spec are left
  // alone. A job present with a different spec fails the whole import with
  // ErrorCode::conflict naming the job, unless allow_spec_changes (then a job
  // still queued is replaced; one past queued is still a conflict).
  virtual Result<ImportSummary> import_jobs(const std::string& batch,
                                            const std::vector<JobSpec>& jobs, Millis now,
                                            bool allow_spec_changes) = 0;

  // Applies every transition in one transaction, each as compare-and-set on
  // `from` (and on its lease when it carries one), writing the job row and one
  // events row. If any job is no longer in its `from` state or lease, or the
  // edge is not allowed, nothing is written and the error (ErrorCode::conflict)
  // names the job.
  virtual Status apply(std::span<const Transition> transitions) = 0;
  // Applies each transition that still holds (compare-and-set as apply()), in one transaction
  // (on PostgreSQL one round trip per 100 transitions), and skips the others: one outcome per
  // transition, in order. The caller forgets the jobs it lost. Fails (nothing written) only
  // for an edge the state machine does not allow (ErrorCode::conflict) or a database error.
  virtual Result<std::vector<TransitionOutcome>> apply_each(
      std::span<const Transition> transitions) = 0;

  // Deferred durability, for writes whose loss in a power cut loses nothing but the write
  // (transitions no request depends on, claims). While deferring, commits return once other
  // connections see them, without waiting for the disk; they are durable once a function from
  // commit_syncer() has returned after them (on any thread), or once a later commit made
  // without deferring has returned. Only SQLite with sync = "full" defers: elsewhere commits
  // are as durable as ever (PostgreSQL) or never wait for the disk ("normal", "off"), and
  // commit_syncer() is empty. Use through DeferredCommits.
  virtual Status defer_durability(bool defer) = 0;
  virtual std::function<Status()> commit_syncer() = 0;

  // Counts a retried request or a poll against a job without a state change.
  virtual Status note_activity(std::int64_t row_id, int polls, int retries) = 0;
  // A job's progress while it stays in `state` (a streamed create's deltas): no transition and
  // no event, so latest_event_id does not move. Compare-and-set on `state` and, when `lease` is
  // set, on the lease as an owner transition of apply(). False when the job is no longer in
  // `state` under that lease (or does not exist): nothing is written.
  virtual Result<bool> note_progress(std::int64_t row_id, JobState state, double progress,
                                     Millis at, const std::optional<Lease>& lease) = 0;

  // Jobs in any of `states` with row_id > after_row_id, ascending, at most `limit`.
  virtual Result<std::vector<JobRecord>> jobs_in_states(std::span<const JobState> states,
                                                        std::int64_t after_row_id, int limit) = 0;
  virtual Result<std::optional<JobRecord>> find_job(const std::string& batch,
                                                    const std::string& job_id) = 0;
  virtual Result<std::vector<JobRecord>> list_jobs(const JobFilter& filter) = 0;
  // The jobs list_jobs(filter) returns, in the same order and from one snapshot, handed to
  // `visit` one at a time: memory stays flat whatever the ledger's size. The first failed
  // visit stops the walk and is returned. `visit` must not call this store (on PostgreSQL its
  // connection is busy streaming the rows).
  virtual Status for_each_job(const JobFilter& filter,
                              const std::function<Status(const JobRecord&)>& visit) = 0;
  virtual Result<std::vector<StateCount>> count_states() = 0;
  // Mismatched videos per batch (batches with none left out), by batch name.
  virtual Result<std::vector<MismatchCount>> count_mismatched() = 0;
  // The id of the newest event, 0 when there is none: every transition raises it, so a
  // reader that saw the same value has seen every change (one index lookup).
  virtual Result<std::int64_t> latest_event_id() = 0;
  // When the job last entered `state` (its latest such event), 0 if never.
  virtual Result<Millis> last_entered(std::int64_t row_id, JobState state) = 0;
  // Which of `remote_ids` some job of the ledger already holds.
  virtual Result<std::vector<std::string>> known_remote_ids(
      const std::vector<std::string>& remote_ids) = 0;
  // Adds the characters the ledger does not know yet (state pending), in one
  // transaction. One already known from another video is an ErrorCode::conflict
  // (its id belongs to that video), and nothing is written.
  virtual Status import_characters(const std::vector<CharacterRecord>& characters, Millis now) = 0;
  virtual Result<std::optional<CharacterRecord>> find_character(const std::string& provider,
                                                                const std::string& name) = 0;
  // Compare-and-set of a character's state; `remote_id` is stored when non-empty.
  // ErrorCode::conflict when it is no longer in `from`.
  virtual Status set_character_state(const std::string& provider, const std::string& name,
                                     CharacterState from, CharacterState to,
                                     const std::string& remote_id, Millis now) = 0;

  // Records videos seen unclaimed (one transaction); one already known keeps its job and take,
  // its status and seen_at are updated.
  virtual Status note_unclaimed(const std::vector<UnclaimedVideo>& videos) = 0;
  // Unclaimed videos, of one batch or all, oldest first; those a job has claimed since are left
  // out (a job's remote_id).
  virtual Result<std::vector<UnclaimedVideo>> unclaimed_videos(
      const std::optional<std::string>& batch) = 0;
  // Where `vidbatch adopt` saved an unclaimed video. ErrorCode::not_found when none is known.
  virtual Status record_take(const std::string& provider, const std::string& remote_id,
                             const std::string& path) = 0;
  // Jobs whose prompt is one of `prompts` (one pass over the ledger), ascending row id.
  virtual Result<std::vector<JobRecord>> jobs_with_prompts(
      const std::vector<std::string>& prompts) = 0;

  // The providers named by jobs that are not terminal ("" = the default provider), each once.
  virtual Result<std::vector<std::string>> unfinished_providers() = 0;
  // Events in insertion order, optionally for one job.
  virtual Result<std::vector<EventRecord>> events(std::optional<std::int64_t> row_id) = 0;
  // Events of every job of `batch` in insertion order; empty for an unknown batch.
  virtual Result<std::vector<EventRecord>> batch_events(const std::string& batch) = 0;

  // ---- workers and leases (times: the database clock) ----

  // The database's clock now, in milliseconds since the epoch.
  virtual Result<Millis> database_now() = 0;
  // Adds the worker `id` (suggested: "host:pid:random"), alive for `ttl_ms`.
  // ErrorCode::conflict when a worker of that id exists; nothing is written then.
  virtual Status register_worker(const std::string& id, const std::string& host, int pid,
                                 Millis ttl_ms) = 0;
  // Extends the worker's life to now + ttl_ms when it is still alive. Not alive (expired, or
  // reaped by a rescuer): nothing is written and `alive` is false; the worker must stop
  // creating at once (it may still record answers in flight: record_late_answer).
  virtual Result<Heartbeat> heartbeat(const std::string& id, Millis ttl_ms) = 0;
  // A graceful stop: releases the worker's leases as the rescuer would (submitting ->
  // ambiguous, downloading -> ready, with an event each; the others are unleased) and deletes
  // its row, in one transaction. A worker already reaped releases nothing.
  virtual Result<std::vector<ReleasedJob>> release_worker(const std::string& id) = 0;
  // Every worker row (alive or not yet reaped), by id, with the number of jobs it holds.
  virtual Result<std::vector<WorkerRecord>> list_workers() = 0;
  // Reaps every worker whose heartbeat expired, in one transaction: its jobs in `submitting`
  // become `ambiguous` (the create may have left; never `queued`), `downloading` ones `ready`,
  // each with an event naming the worker; its other jobs are unleased; its row is deleted, so
  // its later owner writes and heartbeats fail. Safe with concurrent rescuers and owners: each
  // expired worker is reaped once.
  virtual Result<RescueReport> rescue_expired_workers() = 0;

  // Sets a provider's create limits (kept across runs; the GCRA state is kept too).
  virtual Status set_provider_limits(const std::string& provider, const ProviderLimits& limits) = 0;
  // Create admission, one transaction under the provider's row lock: claims for `worker` at
  // most `want` unleased queued jobs of `scope` whose not_before has passed, oldest not_before
  // first, as many as the provider's in-flight cap (jobs at the provider plus claimed queued
  // ones, across all batches and workers; the lower of max_in_flight and the learnt cap) and
  // its GCRA budget (at the learnt rate where interval_ms is 0) allow, and charges the budget
  // for them. With a `budget` (may be null), under the ledger-wide budget lock too, it also
  // admits only the jobs whose cost fits (CreateBudget) and records each one's charge. Empty
  // when none may go now or the worker is not alive. ErrorCode::not_found when the provider has
  // no limits (set_provider_limits). The caller moves each job to `submitting` (an owner
  // transition) before its create leaves, or releases it.
  virtual Result<Admission> admit_creates(const std::string& worker, const WorkScope& scope,
                                          int want, const CreateBudget* budget) = 0;
  // A worker halved a learnt limit: the shared value becomes the lower of it and `value` (set
  // when none was learnt), so a halving is never undone by a concurrent write.
  virtual Status lower_learnt_limit(const std::string& provider, LearntLimit limit,
                                    double value) = 0;
  // A worker's learnt limit grew: compare-and-set from the shared value it last saw (`seen`)
  // to `value`. False, with nothing written, when the shared value is no longer `seen`
  // (another worker moved it meanwhile, a halving say) or none was learnt.
  virtual Result<bool> raise_learnt_limit(const std::string& provider, LearntLimit limit,
                                          double seen, double value) = 0;
  // Claims for `worker` at most `limit` unleased jobs of `scope` in `states` whose not_before
  // has passed (oldest not_before first), each with a new token: for the phases that cost
  // nothing (poll, download, reconcile). Empty when the worker is not alive. `queued` is
  // refused (ErrorCode::invalid_input): creates go through admit_creates.
  virtual Result<std::vector<ClaimedJob>> claim_jobs(const std::string& worker,
                                                     const WorkScope& scope,
                                                     std::span<const JobState> states,
                                                     int limit) = 0;
  // Gives jobs back to the pool without a state change; a job no longer held under that lease
  // is left alone. defer_ms > 0 also moves their not_before to the database's now + defer_ms,
  // so that no claim takes them back meanwhile (a create a gate keeps waiting). Returns how
  // many were released.
  virtual Result<int> release_leases(std::span<const LeasedJob> jobs, Millis defer_ms) = 0;
  // Records a create's answer, `answer` being the owner transition out of `submitting` that
  // carries the remote id (to submitted, running or ready, with the lease), in one
  // transaction. The answer is a fact and is never dropped: when the lease was lost (a rescuer
  // made the job ambiguous meanwhile), the job goes ambiguous -> submitted with the remote id
  // ("late create answer", lease cleared) if it holds no remote id yet, whoever leases it;
  // otherwise the video is kept as unclaimed for `provider` (unclaimed_videos), unless the
  // job holds that very id. ErrorCode::invalid_input when `answer` is no such transition.
  virtual Result<RecordedAnswer> record_create_answer(const Transition& answer,
                                                      const std::string& provider) = 0;
  // Takes or renews the leadership of `duty` (e.g. "reconcile:<provider>") for `worker` until
  // now + ttl_ms: true when `worker` holds it now, false while another holder's lease runs.
  virtual Result<bool> hold_leadership(const std::string& duty, const std::string& worker,
                                       Millis ttl_ms) = 0;
  // Gives the leadership of `duty` up when `worker` holds it.
  virtual Status release_leadership(const std::string& duty, const std::string& worker) = 0;
};

// Defers the durability of a store's commits while it lives (JobStore::defer_durability). Not
// deferring (a failed switch) only keeps commits durable; a failure to switch back, after
// which a `submitting` could commit without reaching the disk, aborts the process instead.
class DeferredCommits {
 public:
  explicit DeferredCommits(JobStore& store);
  ~DeferredCommits();
  DeferredCommits(const DeferredCommits&) = delete;
  DeferredCommits& operator=(const DeferredCommits&) = delete;

 private:
  JobStore& m_store;
  bool m_deferred;
};

}  // namespace vb
