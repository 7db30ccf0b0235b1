// JobStore: the SQLite ledger, the system of record for every job and every
// state transition. All SQL of vidbatch lives in this module (so that a
// PostgreSQL ledger can later implement the same contract).
//
// Durability: WAL mode, `synchronous` as configured (FULL by default), busy
// timeout 5 s. Every call that writes is one IMMEDIATE transaction: it commits
// whole or not at all. A transition is applied only if the job is still in
// its `from` state (compare-and-set), so a stale writer cannot overwrite
// newer state. The schema is migrated on open from the versioned SQL files in
// schema/ (embedded at build time), keyed on PRAGMA user_version.
//
// Not thread-safe: one JobStore per thread. SQLite types never leave the module.
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
  std::string url;          // "" = none recorded
  Millis expires_at = 0;    // 0 = the answer did not say
  Millis recorded_at = 0;
};

struct JobRecord {
  std::int64_t row_id = 0;
  std::string batch;
  JobSpec spec;
  JobState state = JobState::queued;
  int attempt = 0;              // create requests sent so far
  std::string remote_id;        // exactly as the provider's create answer gave it
  std::optional<double> progress;  // 0..100 when known
  Millis not_before = 0;        // earliest time of the next action (retry back-off)
  Millis created_at = 0;
  Millis submitted_at = 0;      // create answer stored
  Millis completed_at = 0;      // provider reported completion
  Millis downloaded_at = 0;
  std::string output_path;
  std::int64_t bytes = 0;
  std::string sha256;
  std::string error_code;
  std::string error_message;
  int polls = 0;
  int retries = 0;              // retried requests of any phase
  VideoCheck check;             // of the file at output_path; unchecked when verify is off
  DownloadUrl download;         // the URL of its last download, while the ledger holds one
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
  std::optional<std::string> error_code;      // "" clears
  std::optional<std::string> error_message;   // "" clears
  // The check of the file being saved; one with an empty verdict removes the job's check.
  std::optional<VideoCheck> check;
  // The URL a download starts from; one with an empty url removes the job's.
  std::optional<DownloadUrl> download;
  bool increment_attempt = false;
  int add_polls = 0;      // polls and retried requests since the last transition,
  int add_retries = 0;    // counted with it rather than in a transaction of their own
};

// What the ledger's row becomes under `update` (the store writes the same rule in SQL): set
// fields replace, unset ones stay, counters add. For in-memory copies of a row.
void apply_update(JobRecord& rec, const JobUpdate& update);

struct Transition {
  std::int64_t row_id = 0;
  JobState from = JobState::queued;
  JobState to = JobState::queued;
  Millis at = 0;
  int http_status = 0;          // 0 = none
  std::string message;
  JobUpdate update;
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
};

struct ImportSummary {
  std::string batch;
  int added = 0;
  int unchanged = 0;
  int replaced = 0;   // only with allow_spec_changes, and only for jobs still queued
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
  std::string provider;     // the config provider's name (never "")
  std::string name;
  std::string video_path;
  CharacterState state = CharacterState::pending;
  std::string remote_id;    // set when created
  Millis updated_at = 0;
};

// A video a provider listed that matches a job of the ledger but is attached to none: paid
// for, and nobody's. Reconciliation records it; `vidbatch adopt` downloads it as a take.
struct UnclaimedVideo {
  std::string provider;     // the config provider's name
  std::string remote_id;
  std::int64_t job_row_id = 0;  // the job whose spec it matches
  std::string status;       // the provider's word when last listed
  Millis created_at = 0;    // at the provider
  Millis seen_at = 0;
  std::string take_path;    // where `vidbatch adopt` saved it; empty until then
  // Filled by reads, from the matching job:
  std::string batch;
  std::string job_id;
  JobSpec spec;
};

enum class SyncMode { off, normal, full };

class JobStore {
 public:
  // Opens (creating if needed) and migrates the database at `path`.
  // Fails with ErrorCode::database naming the path, leaving the file untouched
  // when it is not a vidbatch database or is newer than this build.
  static Result<std::unique_ptr<JobStore>> open(const std::string& path,
                                                SyncMode sync = SyncMode::full);
  // Opens an existing ledger for reading only (status, jobs, events, report): nothing is
  // written, not even the checkpoint of the write-ahead log a stopped run left behind (the
  // next run does that). A ledger of an older schema is migrated first, through open().
  // Writes through the returned store fail.
  static Result<std::unique_ptr<JobStore>> open_for_reading(const std::string& path);
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
  // `from`, writing the job row and one events row. If any job is no longer in
  // its `from` state, or the edge is not allowed, nothing is written and the
  // error (ErrorCode::conflict) names the job.
  virtual Status apply(std::span<const Transition> transitions) = 0;

  // Counts a retried request or a poll against a job without a state change.
  virtual Status note_activity(std::int64_t row_id, int polls, int retries) = 0;

  // Jobs in any of `states` with row_id > after_row_id, ascending, at most `limit`.
  virtual Result<std::vector<JobRecord>> jobs_in_states(std::span<const JobState> states,
                                                        std::int64_t after_row_id,
                                                        int limit) = 0;
  virtual Result<std::optional<JobRecord>> find_job(const std::string& batch,
                                                    const std::string& job_id) = 0;
  virtual Result<std::vector<JobRecord>> list_jobs(const JobFilter& filter) = 0;
  // The jobs list_jobs(filter) returns, in the same order and from one snapshot, handed to
  // `visit` one at a time: memory stays flat whatever the ledger's size. The first failed
  // visit stops the walk and is returned.
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
};

}  // namespace vb
