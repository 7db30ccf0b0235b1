// Internal to the engine module: what every request family of a run shares (RunCore), the
// state of one job in the loop (LiveJob), and when requests may start (Scheduler).
//
// A request family (engine/run_parts.h) starts its requests with RunCore::send, naming itself
// as the owner; the answer comes back to it by the request's tag (a counter, never reused in a
// run). Families change jobs only through RunCore: transition (mirrored in memory at once,
// committed by flush), schedule, forget (the job leaves the loop at the end of the turn, so no
// LiveJob& dies under a caller) and notice. Single-threaded, like the loop.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/commit_syncer.h"
#include "engine/learned_limit.h"
#include "engine/notice.h"
#include "engine/poll_concurrency.h"
#include "engine/rate_limiter.h"
#include "engine/retry_policy.h"
#include "engine/run_engine.h"
#include "output/video_file.h"
#include "provider/registry.h"

namespace vb {

// What a job of the loop is waiting on.
enum class RequestKind { none, submit, poll, resolve, download, finishing };

// A job this run is working on (everything past queued, plus queued jobs
// waiting for a retry time). Queued jobs stay in the ledger until picked.
struct LiveJob {
  JobRecord rec;
  RequestKind in_flight = RequestKind::none;
  bool forgotten = false;       // leaves the loop at the end of the turn
  Millis due = 0;               // next action not before
  std::uint64_t timer_seq = 0;  // invalidates older heap entries
  Millis poll_interval = 0;
  // Failed attempts per phase (submit, poll, download). A successful poll does
  // not reset the download streak: an expired URL must not retry forever.
  std::array<FailureStreak, 3> streaks{};
  FailureStreak& streak(RequestPhase phase) { return streaks[static_cast<std::size_t>(phase)]; }
  RemoteStatus last;          // last status seen
  bool status_fresh = false;  // `last` came from this run (URLs not stale)
  // Loaded `ready` from the ledger: one download without asking its status first, from the
  // content route by id or from the ledger's still valid URL. Any refusal of it sends the job
  // to a status query.
  bool from_ledger = false;
  // Worker mode (RunScope::worker): the lease this worker holds on the job; unset, the job is
  // unleased and its transitions apply only while nobody holds it.
  std::optional<Lease> lease;
  std::unique_ptr<VideoFile> file;
  std::uint64_t download_tag = 0;  // the request writing into `file`, while one is in flight
  std::string redirect_url;        // a JSON content answer's video URL
  int redirects = 0;
  bool unknown_status_noted = false;
  bool timeout_noted = false;
  int unsaved_polls = 0;  // written with the next transition
  int unsaved_retries = 0;
  Millis sent_at = 0;          // when the last create request left
  int finish_status = 0;       // HTTP status of the download being finished
  bool poll_directly = false;  // next status from its own query, not a listing
  // The provider lost the job's id (RemotePhase::lost): its status comes from the listing.
  bool lost = false;
  // The listing showed it completed, naming no URL: its own query is asked once more.
  bool lost_listed_done = false;
  // A page showed it completed, with this download URL: compared with its own answer.
  std::optional<std::string> listed_url;
};

struct Timer {
  Millis at;
  std::int64_t row_id;
  std::uint64_t seq;
  bool operator>(const Timer& o) const { return at > o.at; }
};

// The part of a run that answers a request it started.
class RequestOwner {
 public:
  // `key`: what the owner named when it sent the request (a job's row id, a task's index).
  virtual void on_answer(std::int64_t key, HttpResult& result, Millis now) = 0;

 protected:
  ~RequestOwner() = default;
};

// How a request travels. `status` requests (queries, listing pages, download resolution)
// share the poll bucket and its concurrency limit; `paid` ones leave once, on a connection of
// their own; `paid_stream` ones too, their answer streaming until the video is done (bounded by
// limits.job_timeout_ms); `download` ones get the download timeouts.
enum class Traffic { paid, status, download, plain, paid_stream };

// Due jobs whose request cannot start yet wait here, first come first served.
enum class WaitQueue { poll, download, sweep };

// When requests may start: job timers, the waiting queues, the token buckets of creates and
// status requests, how many status requests may be in flight, and the provider's limits as
// learnt from its answers (jobs at the provider; creates a minute unless pinned). Pure
// bookkeeping.
class Scheduler {
 public:
  Scheduler(const LimitsConfig& limits, const DocumentedLimits& documented);

  void schedule(LiveJob& job, Millis at);
  // The earliest timer due at or before `now`, removed; nullopt when none is.
  std::optional<Timer> pop_due(Millis now);
  std::optional<Millis> next_timer() const;
  std::deque<Timer>& waiting(WaitQueue queue) { return m_waiting[static_cast<std::size_t>(queue)]; }
  const std::deque<Timer>& waiting(WaitQueue queue) const {
    return m_waiting[static_cast<std::size_t>(queue)];
  }

  // Jobs the provider may hold at once (submitting, submitted, running) as learnt so far,
  // within limits.max_in_flight.
  std::size_t in_flight_cap() const;
  double submits_per_minute() const { return m_submit_rate.value(); }
  // The limits learnt so far as the ledger shares them: the whole in-flight cap, and the rate
  // unless it is pinned.
  LearntLimits learnt() const;
  // The ledger's shared learnt limits (an admission read them): a lower one is adopted.
  void adopt_shared(const LearntLimits& shared, Millis now);
  // What a create's answer teaches: its request budget headers, and, accepted or refused for
  // pacing, the learnt limits. True when a limit was halved.
  bool create_answered(const HttpResponse& response, AnswerKind kind, Millis sent_at, Millis now);
  bool take_submit_token(Millis now);
  Millis next_submit_token(Millis now) const { return m_submit_limiter.next_available(now); }
  bool status_slot_free(std::size_t status_in_flight) const {
    return m_poll_concurrency.may_start(status_in_flight);
  }
  bool take_status_token(Millis now) { return m_poll_limiter.try_take(now); }
  Millis next_status_token(Millis now) const { return m_poll_limiter.next_available(now); }
  void status_answered(Millis answer_ms) { m_poll_concurrency.record(answer_ms); }
  // The provider's pacing is everyone's: no request of the phase's bucket before `until`.
  void slow_down(RequestPhase phase, Millis until);

 private:
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> m_timers;
  std::array<std::deque<Timer>, 3> m_waiting;
  LearnedLimit m_in_flight;
  LearnedLimit m_submit_rate;  // per minute; floor == ceiling when pinned
  bool m_rate_learnt;
  std::deque<Millis> m_recent_creates;  // tokens taken in the last minute
  RateLimiter m_submit_limiter;
  RateLimiter m_poll_limiter;
  PollConcurrency m_poll_concurrency;
};

// What the engine was given to run with.
struct RunDeps {
  JobStore& store;
  const VideoProvider& provider;
  HttpTransport& transport;
  const Clock& clock;
  const Config& config;
  RunObserver& observer;
  SharedBudget& budget;
  RunScope scope;
  std::function<Status()> commit_sync;  // the store's commit_syncer(), unless a test replaced it
};

// How flush() commits: `now` returns once the transitions are on the disk (the money rule's
// `submitting`); `deferred` once they are in the ledger, the CommitSyncer making them
// durable meanwhile (no request depends on them).
enum class Durability { now, deferred };

class RunCore {
 public:
  explicit RunCore(const RunDeps& deps);

  const Config& config() const { return m_deps.config; }
  const VideoProvider& provider() const { return m_deps.provider; }
  JobStore& store() { return m_deps.store; }
  SharedBudget& budget() { return m_deps.budget; }
  HttpTransport& transport() { return m_deps.transport; }
  Millis now() const { return m_deps.clock.now_ms(); }
  // Worker mode: this process's worker, null when the engine works alone.
  const WorkerSeat* worker() const { return m_deps.scope.worker; }
  WorkScope work_scope() const;
  Scheduler& scheduler() { return m_scheduler; }
  const Scheduler& scheduler() const { return m_scheduler; }

  // Requests. The answer goes to owner.on_answer(key, ...).
  std::uint64_t send(HttpRequest request, Traffic traffic, RequestOwner& owner, std::int64_t key,
                     Millis now);
  void dispatch(HttpResult result, Millis now);
  // The transport has a connection free (beyond `reserved` about to be used).
  bool connection_free(std::size_t reserved = 0) const;
  // A status request may leave now: takes its token when it may.
  bool status_may_start(Millis now);
  std::size_t status_in_flight() const { return m_status_in_flight; }
  std::size_t in_flight() const { return m_deps.transport.in_flight(); }

  // Jobs of the loop.
  LiveJob* find(std::int64_t row_id);
  // The job whose request was answered, idle again; null when it has left the loop.
  LiveJob* answered(std::int64_t row_id);
  // Visits the ledger's jobs in `states` that are in this run's scope, page by page.
  Status each_stored(std::span<const JobState> states,
                     const std::function<Status(JobRecord)>& visit);
  // The job as a live job of the loop (a fresh entry, or the one it had), with the claim this
  // worker holds on it, if any.
  LiveJob& admit(JobRecord rec);
  // Worker mode: a claim (admission or claim_jobs) on a job not yet in the loop; admit() takes
  // it. give_back_claim releases one the loop did not take, admissible again after defer_ms
  // (0: at once); false when the ledger failed.
  void hold_claim(std::int64_t row_id, const Lease& lease) { m_claims[row_id] = lease; }
  bool holds_claim(std::int64_t row_id) const { return m_claims.contains(row_id); }
  bool give_back_claim(std::int64_t row_id, Millis defer_ms);
  // The timer's job, if the timer is still its current one and the job is idle.
  LiveJob* due_job(const Timer& timer);
  void schedule(LiveJob& job, Millis at) { m_scheduler.schedule(job, at); }
  void forget(LiveJob& job);
  void end_turn();
  bool no_live_jobs() const { return m_live.empty(); }
  template <typename Visit>
  void each_live(Visit&& visit) {
    for (auto& [row_id, job] : m_live) {
      if (!job.forgotten) {
        visit(job);
      }
    }
  }
  template <typename Visit>
  void each_live(Visit&& visit) const {
    for (const auto& [row_id, job] : m_live) {
      if (!job.forgotten) {
        visit(job);
      }
    }
  }
  std::size_t at_provider() const { return m_at_provider; }
  bool in_scope(const JobRecord& rec) const;
  bool in_scope_batch(const std::string& batch) const {
    return !m_deps.scope.batch || batch == *m_deps.scope.batch;
  }
  bool for_this_provider(const JobRecord& rec) const;
  void seed_counts(const RunCounts& counts) { m_counts = counts; }
  const RunCounts& counts() const { return m_counts; }

  // Transitions: mirrored in memory at once, made durable by flush().
  void transition(LiveJob& job, JobState to, const std::string& message, JobUpdate update = {},
                  int http_status = 0);
  void fail_job(LiveJob& job, const std::string& code, const std::string& message,
                int http_status = 0);
  // A create's answer (the transition out of `submitting` carrying the remote id), written at
  // once. Worker mode: through JobStore::record_create_answer, so an answer whose lease was
  // lost is still recorded; the job is then forgotten. True when the job is still this run's.
  bool record_create_answer(LiveJob& job, JobState to, const std::string& message, JobUpdate update,
                            int http_status);
  // Worker mode: a transition that lost its lease is dropped and its job forgotten. The
  // observer hears of a transition once it is durable. Durability::now also makes every
  // deferred commit before it durable.
  void flush(Durability durability = Durability::now);
  void flush_if_due(Millis now);  // deferred, unless a remote id waits
  // Tells the observer of the deferred commits the syncer has made durable since.
  void take_synced();
  std::optional<Millis> flush_due() const;
  // Called after every transition to a terminal state.
  void on_terminal(std::function<void(const JobRecord&)> listener) {
    m_on_terminal = std::move(listener);
  }

  // The run.
  void notice(NoticeKind kind, std::string subject, std::string text);
  void set_fatal(Error error);
  const std::optional<Error>& fatal() const { return m_fatal; }
  bool stopping() const { return m_stopping; }
  void stop() { m_stopping = true; }
  void tick(Millis now, bool force);
  double jitter() { return m_uniform(m_rng); }
  void count_resent() { m_resent += 1; }
  int resent() const { return m_resent; }

 private:
  struct Sent {
    RequestOwner* owner;
    std::int64_t key;
    bool status;
    Millis at;
  };

  Transition mirror(LiveJob& job, JobState to, const std::string& message, JobUpdate update,
                    int http_status);
  void release_file(LiveJob& job);

  RunDeps m_deps;
  Scheduler m_scheduler;
  std::unordered_map<std::uint64_t, Sent> m_sent;  // by tag
  // Files of forgotten jobs that a download still writes into, by its tag: kept until the
  // transport is done with them, then discarded.
  std::unordered_map<std::uint64_t, std::unique_ptr<VideoFile>> m_orphaned_files;
  std::uint64_t m_next_tag = 1;
  std::size_t m_status_in_flight = 0;
  std::unordered_map<std::int64_t, LiveJob> m_live;
  std::vector<std::int64_t> m_forgotten;
  std::unordered_map<std::int64_t, Lease> m_claims;  // claimed, not yet admitted
  std::size_t m_at_provider = 0;                     // live jobs submitting/submitted/running
  std::vector<Transition> m_pending;                 // committed together by flush()
  using Note = std::pair<JobRecord, Transition>;
  std::optional<std::vector<Note>> commit_pending(bool defer);
  void tell(const std::vector<Note>& notes);
  void tell_synced(std::uint64_t ticket);
  void sync_deferred();

  std::vector<Note> m_pending_notes;
  std::unique_ptr<CommitSyncer> m_syncer;  // null when the store's commits cannot be deferred
  std::deque<std::pair<std::uint64_t, Note>> m_unsynced;  // committed, by sync ticket
  std::uint64_t m_deferred_ticket = 0;                    // the last deferred commit's
  std::uint64_t m_durable_ticket = 0;  // every deferred commit up to it is durable
  bool m_flush_now = false;            // a pending transition carries a remote id: commit at once
  Millis m_last_flush = 0;
  Millis m_last_tick = 0;
  std::function<void(const JobRecord&)> m_on_terminal;
  RunCounts m_counts;
  std::optional<Error> m_fatal;
  bool m_stopping = false;
  int m_resent = 0;  // paid requests the transport saw leave twice
  std::mt19937_64 m_rng{std::random_device{}()};
  std::uniform_real_distribution<double> m_uniform{0.0, 1.0};
};

}  // namespace vb
