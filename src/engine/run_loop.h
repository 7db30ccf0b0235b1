// Internal to the engine module: the state of one run (RunEngine::Loop).
// The loop and its submissions live in run_loop.cpp, timers and waiting queues in
// run_scheduling.cpp, derived jobs in run_chains.cpp, answer handling in run_handlers.cpp.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <queue>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/poll_concurrency.h"
#include "engine/rate_limiter.h"
#include "engine/reconciler.h"
#include "engine/retry_policy.h"
#include "engine/run_engine.h"
#include "output/finish_pool.h"
#include "output/video_file.h"

namespace vb {

enum class RequestKind { none, submit, poll, download, finishing };

// A job this run is working on (everything past queued, plus queued jobs
// waiting for a retry time). Queued jobs stay in the ledger until picked.
struct LiveJob {
  JobRecord rec;
  RequestKind in_flight = RequestKind::none;
  Millis due = 0;                 // next action not before
  std::uint64_t timer_seq = 0;    // invalidates older heap entries
  Millis poll_interval = 0;
  // Failed attempts per phase (submit, poll, download). A successful poll does
  // not reset the download streak: an expired URL must not retry forever.
  std::array<FailureStreak, 3> streaks{};
  FailureStreak& streak(RequestPhase phase) { return streaks[static_cast<std::size_t>(phase)]; }
  RemoteStatus last;              // last status seen
  bool status_fresh = false;      // `last` came from this run (URLs not stale)
  // Loaded `ready` from the ledger: one download from the content route by id, without
  // asking its status first. Any refusal of it sends the job to a status query.
  bool by_id = false;
  std::unique_ptr<VideoFile> file;
  std::string redirect_url;       // a JSON content answer's video URL
  int redirects = 0;
  bool unknown_status_noted = false;
  bool timeout_noted = false;
  int unsaved_polls = 0;          // written with the next transition
  int unsaved_retries = 0;
  Millis sent_at = 0;             // when the last create request left
  int finish_status = 0;          // HTTP status of the download being finished
  bool poll_directly = false;     // next status from its own query, not a listing
  // A page showed it completed, with this download URL: compared with its own answer.
  std::optional<std::string> listed_url;
};

struct Timer {
  Millis at;
  std::int64_t row_id;
  std::uint64_t seq;
  bool operator>(const Timer& o) const { return at > o.at; }
};

// The sidecar `{id}.json` next to a video: a readable copy of its ledger row.
std::string sidecar_json(const JobRecord& rec, const FinishedVideo& video, Millis now);

class RunEngine::Loop {
 public:
  Loop(RunEngine& engine, const RunScope& scope);
  Result<RunSummary> run(const std::atomic<int>& stop_requests);

 private:
  // run_loop.cpp: the loop, submissions, transitions
  Status load_live_jobs();
  bool in_scope(const JobRecord& rec) const;
  bool for_this_provider(const JobRecord& rec) const;
  void fill_queue();
  void start_submissions(Millis now);
  Millis next_wake(Millis now) const;
  bool finished() const;
  void transition(LiveJob& job, JobState to, const std::string& message, JobUpdate update = {},
                  int http_status = 0);
  void flush();
  void flush_if_due(Millis now);
  void set_fatal(Error error);
  void tick(Millis now, bool force);
  void forget(LiveJob& job);
  std::size_t at_provider() const { return m_at_provider; }

  // run_scheduling.cpp: timers, and the first-come queues due jobs wait in
  void run_timers(Millis now);
  LiveJob* due_job(const Timer& timer);  // null when the timer was superseded
  void start_waiting_downloads(Millis now);
  void start_waiting_polls(Millis now);
  bool connection_free(std::size_t reserved = 0) const;
  bool poll_may_start(Millis now);  // takes the poll token when it may
  void poll_sent(std::uint64_t tag, Millis now);
  void poll_answered(std::uint64_t tag, Millis now);  // any answer: ignored unless a poll's
  void start_poll(LiveJob& job, Millis now);
  void start_download(LiveJob& job, Millis now);
  void schedule(LiveJob& job, Millis at);

  // run_chains.cpp: derived jobs wait in m_waiting until their parent is done.
  void note_waiting_children();
  enum class ParentGate { submit, skipped, stop };
  ParentGate gate_on_parent(CreateContext& context);
  void fail_child(JobRecord child, const std::optional<JobRecord>& parent);
  void release_children(const JobRecord& parent);
  static std::string waiting_key(const std::string& batch, const std::string& job_id);

  // run_characters.cpp: jobs wait for their characters, created once.
  struct CharacterTask {
    std::string name;
    std::string video_path;
    CharacterState state = CharacterState::pending;
    bool in_flight = false;
    bool noted = false;              // the "held" notice was shown
    FailureStreak failures;
    Millis due = 0;                  // next create attempt not before
    std::vector<JobRecord> waiting;  // queued jobs that need it
  };
  static bool is_character_tag(std::uint64_t tag);
  CharacterTask& character_task(const std::string& name);
  ParentGate gate_on_characters(CreateContext& context);
  void start_characters(Millis now);
  bool characters_pending() const;
  void on_character_answer(HttpResult& result, Millis now);
  void settle_failed_character(CharacterTask& task, const RetryDecision& decision, Millis now);

  // run_thumbnails.cpp: a done video's thumbnail, fetched beside it (best effort).
  struct ThumbnailTask {
    HttpRequest request;
    std::string path;        // where it is saved
    std::string job;         // "batch/id", for notices
    int attempts = 0;
    bool in_flight = false;
    Millis due = 0;
  };
  static bool is_thumbnail_tag(std::uint64_t tag);
  void queue_thumbnail(const LiveJob& job, Millis now);
  void start_thumbnails(Millis now);
  Millis next_thumbnail_due(Millis wake) const;
  void on_thumbnail_answer(HttpResult& result, Millis now);
  void note_thumbnail_failure(const ThumbnailTask& task, bool refused, const std::string& problem);

  Status load_budget();
  bool within_budget(const JobRecord& rec);

  // run_sweep.cpp: "still running" for many jobs from one listing page (limits.poll_by_listing)
  struct Sweep {
    bool active = false;
    bool in_flight = false;
    std::vector<Timer> targets;  // the due jobs it looks for
    std::unordered_map<std::string, std::int64_t> by_remote_id;  // jobs at the provider, unseen
    std::string after;           // cursor of the next page
    int pages = 0;
    int max_pages = 0;
    int found = 0;
  };
  bool sweep_enabled() const;
  bool sweep_wants_page() const;
  void advance_sweep(Millis now);
  void begin_sweep();
  void on_sweep_answer(HttpResult& result, Millis now);
  void end_sweep();
  void stop_sweeping(const std::string& why);
  void learn_from_listing(const std::string& listed_url, const RemoteStatus& answer);

  // run_reconcile.cpp: ambiguous creates
  Status load_ambiguous_jobs();
  void note_ambiguous(const JobRecord& rec, Millis sent_at, Millis now);
  void start_listing(Millis now);
  void on_list_answer(HttpResult& result, Millis now);
  void decide_ambiguous(Millis now);
  void note_unclaimed(const std::unordered_set<std::string>& claimed, Millis now);
  void apply_ambiguous_policy(Millis now);

  // run_handlers.cpp: answers
  void handle(HttpResult result, Millis now);
  void on_submit_answer(LiveJob& job, HttpResult& result, Millis now);
  void on_poll_answer(LiveJob& job, HttpResult& result, Millis now);
  void on_status(LiveJob& job, const RemoteStatus& status, int http_status, Millis now);
  void on_download_answer(LiveJob& job, HttpResult& result, Millis now);
  void apply_remote_status(LiveJob& job, const RemoteStatus& status, int http_status, Millis now);
  void stop_on_disk_error(LiveJob& job, const std::string& message, const std::string& remedy);
  void on_request_failed(LiveJob& job, RequestPhase phase, const HttpResult& result, Millis now);
  void on_failed_answer(LiveJob& job, RequestPhase phase, const AnswerClass& answer,
                        int http_status, Millis now);
  bool sent_twice(LiveJob& job, const HttpResult& result, Millis now);
  void slow_down(RequestPhase phase, Millis until);
  void finish_download(LiveJob& job, const HttpResult& result, Millis now);
  void on_finished(FinishOutcome& outcome, Millis now);
  void return_for_status(LiveJob& job, const std::string& message);
  void fail_job(LiveJob& job, const std::string& code, const std::string& message,
                int http_status = 0);
  double jitter() { return m_uniform(m_rng); }

  static constexpr std::uint64_t k_list_tag = 0;  // row ids start at 1
  static constexpr std::uint64_t k_sweep_tag = std::uint64_t{1} << 60;  // below thumbnails' tags

  RunEngine& m_e;
  std::unique_ptr<FinishPool> m_finisher;
  std::vector<AmbiguousCreate> m_ambiguous;  // waiting for reconciliation
  std::unordered_map<std::int64_t, JobRecord> m_ambiguous_records;
  Listing m_listing;
  std::string m_listing_last_id;
  bool m_listing_in_flight = false;
  int m_listing_pages = 0;
  int m_listing_failures = 0;
  Millis m_reconcile_due = 0;
  RunScope m_scope;
  std::unordered_map<std::int64_t, LiveJob> m_live;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> m_timers;
  std::deque<Timer> m_polls_waiting;        // due, waiting for a poll token or a connection
  std::deque<Timer> m_downloads_waiting;    // due, waiting for a download slot
  std::vector<Timer> m_sweep_waiting;       // due, for the next listing sweep
  Sweep m_sweep;
  int m_sweep_failures = 0;                 // listing pages failed in a row
  int m_sweeps_empty = 0;                   // sweeps in a row that found none of their jobs
  bool m_sweep_off = false;
  // Whether a page's completed entry can stand for the job's own answer: learnt from the first
  // job a page showed completed, which is queried anyway.
  enum class ListedAnswers { unverified, final, not_final } m_listed_answers = ListedAnswers::unverified;
  std::deque<JobRecord> m_queue;            // queued jobs fetched from the ledger
  std::unordered_map<std::string, std::vector<JobRecord>> m_waiting;  // by parent (waiting_key)
  std::vector<CharacterTask> m_characters;  // tag = k_character_tag_base + index
  std::unordered_map<std::string, std::size_t> m_character_index;
  std::unordered_map<std::uint64_t, ThumbnailTask> m_thumbnails;  // by tag (k_thumbnail_tag_base + row id)
  int m_thumbnails_saved = 0;
  int m_thumbnail_failures = 0;
  bool m_thumbnails_off = false;            // the provider refused them: not asked again
  std::unordered_map<std::int64_t, FailureStreak> m_submit_failures;  // of jobs waiting to retry a create
  int m_resent = 0;                         // paid requests the transport saw leave twice
  std::unordered_set<std::string> m_unclaimed_noted;  // paid, unclaimed videos already told
  std::int64_t m_queue_cursor = 0;
  bool m_queue_exhausted = false;
  std::vector<Transition> m_pending;        // committed together by flush()
  std::vector<std::pair<JobRecord, Transition>> m_pending_notes;
  RateLimiter m_submit_limiter;
  RateLimiter m_poll_limiter;
  PollConcurrency m_poll_concurrency;
  std::unordered_map<std::uint64_t, Millis> m_polls_sent;  // status requests in flight: tag -> sent
  std::size_t m_at_provider = 0;            // live jobs submitting/submitted/running
  std::size_t m_downloads = 0;
  bool m_stopping = false;
  bool m_budget_reached = false;           // this loop stopped submitting at the budget
  Millis m_stop_deadline = 0;
  std::optional<Error> m_fatal;
  Millis m_last_tick = 0;
  Millis m_last_flush = 0;
  bool m_flush_now = false;  // a pending transition carries a remote id: commit at once
  RunCounts m_counts;
  std::mt19937_64 m_rng{std::random_device{}()};
  std::uniform_real_distribution<double> m_uniform{0.0, 1.0};
};

}  // namespace vb
