// RunEngine: drives every unfinished job of the ledger to a terminal state.
//
// One thread runs one loop: it submits queued jobs within the provider's
// limits (jobs in flight, submissions per minute), polls jobs at the provider
// (per-job interval with back-off, under a global polls-per-second cap),
// downloads finished videos, and writes each state change to the JobStore
// before acting on it. Transitions made in one loop turn are committed in one
// transaction (group commit); a job is committed as `submitting` before its
// create request leaves, and its remote id as soon as the answer arrives.
// All I/O goes through the injected JobStore, HttpTransport and Clock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "engine/notice.h"
#include "engine/shared_budget.h"
#include "http/http_transport.h"
#include "job/job_state.h"
#include "provider/video_provider.h"
#include "store/job_store.h"
#include "util/clock.h"
#include "util/error.h"

namespace vb {

struct RunCounts {
  std::array<std::int64_t, k_job_state_count> by_state{};
  std::int64_t total() const;
  std::int64_t of(JobState s) const { return by_state[static_cast<std::size_t>(s)]; }
};

// What the engine tells the outside world while it runs (progress display, logs).
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // `http_status`: the answer that caused it, 0 when none.
  virtual void on_transition(const JobRecord& job, JobState from, JobState to,
                             const std::string& message, int http_status) = 0;
  // Called at most a few times per second with the counts of the jobs in scope.
  virtual void on_tick(const RunCounts& counts, Millis now) = 0;
  virtual void on_notice(const Notice& notice) = 0;
};

// This process as a worker of a shared ledger (docs/scale-out.md): its id in `workers`, kept
// alive by a heartbeat elsewhere. Thread-safe.
class WorkerSeat {
 public:
  virtual ~WorkerSeat() = default;
  virtual const std::string& id() const = 0;
  virtual Millis ttl_ms() const = 0;
  // False once a heartbeat was refused: the worker was declared dead (R5).
  virtual bool alive() const = 0;
  // Alive, and the last heartbeat is younger than half the time to live (R6).
  virtual bool may_create() const = 0;
};

struct RunScope {
  std::optional<std::string> batch;  // only this batch; all batches when unset
  // Set: the engine works as this worker, through leases, beside other workers of the ledger:
  // creates through JobStore::admit_creates, polls and downloads through claim_jobs, every
  // transition under the job's lease. Unset: it works alone on every job of its scope.
  const WorkerSeat* worker = nullptr;
};

struct RunSummary {
  RunCounts counts;             // jobs in scope per state at the end
  bool interrupted = false;     // stopped by a signal before finishing
  std::optional<Error> fatal;   // the run could not go on (auth, disk, database)
  bool budget_reached = false;  // submissions stopped at limits.budget_usd
  // Paid requests that went on the wire more than once below the engine (a layer resent them):
  // their jobs are ambiguous, and a duplicate video may have been billed.
  int resent_requests = 0;
};

class RunEngine {
 public:
  RunEngine(JobStore& store, const VideoProvider& provider, HttpTransport& transport,
            const Clock& clock, const Config& config, RunObserver& observer);
  ~RunEngine();
  RunEngine(const RunEngine&) = delete;
  RunEngine& operator=(const RunEngine&) = delete;

  // Runs until every job in scope is terminal or ambiguous, or until
  // `stop_requests` becomes >= 1 (graceful: no new requests, in-flight ones
  // finish or are aborted within a few seconds) or >= 2 (abort at once): the front end
  // counts its stop signals there.
  // Fails only when the ledger cannot be read at start.
  Result<RunSummary> run(const RunScope& scope, const std::atomic<int>& stop_requests);

  // Several providers' engines in one run spend from one budget.
  void share_budget(std::shared_ptr<SharedBudget> budget);
  // Fault injection: makes the ledger's deferred commits durable with `sync` instead of the
  // store's own (JobStore::commit_syncer).
  void sync_commits_with(std::function<Status()> sync) { m_commit_sync = std::move(sync); }

 private:
  class Loop;
  JobStore& m_store;
  const VideoProvider& m_provider;
  HttpTransport& m_transport;
  const Clock& m_clock;
  const Config& m_config;
  RunObserver& m_observer;
  std::shared_ptr<SharedBudget> m_budget;
  std::function<Status()> m_commit_sync;
};

// Moves jobs left mid-flight by a crash of a run without a worker lease to where a new run can
// take them: submitting -> ambiguous (its create may have started a video), and
// downloading -> ready (download again from a fresh status). Jobs a worker holds are left to it
// (or to the rescuer, JobStore::rescue_expired_workers). Returns how many moved.
Result<int> recover_interrupted_jobs(JobStore& store, Millis now);

}  // namespace vb
