// Internal to the engine module: the request families of a run, one class each, each owning
// its state and reaching the rest of the run through RunCore (engine/run_core.h) and the few
// siblings it names in its constructor. A new step between "created" and "saved" is one more
// class here and one more route in RunEngine::Loop.
//
//   Submitter         queued jobs -> create requests (limits, budget, parents, characters);
//                     a streamed create (chat) stays open until its video is done
//   ChainGate         derived jobs wait for their parent
//   CharacterCreator  characters created once, before the jobs that use them
//   StatusPolls       a job's own status query, and what any status means for the job
//   Downloader        the video's bytes -> VideoFile -> FinishPool -> done
//   FailedRequests    what a job's failed request means (retry, ambiguous, give up, stop)
//   ListingPages      one paginated walk through the provider's video listing
//   Reconciliation    ambiguous creates against the listing (or the ambiguous policy)
//   ListingSweep      many jobs' "still running" from one listing page
//   ThumbnailFetcher  a done video's thumbnail, best effort
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/progress_throttle.h"
#include "engine/reconciler.h"
#include "engine/run_core.h"
#include "output/finish_pool.h"

namespace vb {

class ChainGate;
class CharacterCreator;
class Downloader;
class FailedRequests;
class ListingSweep;
class Reconciliation;
class StatusPolls;
class ThumbnailFetcher;

// Whether a job taken from the submission queue may be sent now.
enum class Gate {
  submit,   // yes (its context filled in)
  skipped,  // no: the gate took the job (it waits, or it failed)
  stop,     // no: the ledger could not be read (the run stops)
};

// The body of a streamed create (VideoProvider::streams_create), read as it arrives: the
// progress its lines report, and the text parse_create reads once the stream ends. Long streams
// keep their last lines only (the link comes last).
class StreamedAnswer final : public BodySink {
 public:
  explicit StreamedAnswer(const VideoProvider& provider) : m_provider(provider) {}
  bool begin(int, std::int64_t) override { return true; }
  bool write(const char* data, std::size_t size) override;
  std::optional<double> progress() const { return m_progress; }
  // The progress to write to the ledger now (ProgressThrottle), if any.
  std::optional<double> progress_to_record(Millis now);
  std::string take_text() { return std::move(m_text); }

 private:
  const VideoProvider& m_provider;
  std::string m_text;
  std::size_t m_read = 0;  // bytes of m_text whose lines were read for progress
  std::optional<double> m_progress;
  ProgressThrottle m_recorded;
};

class Submitter final : public RequestOwner {
 public:
  Submitter(RunCore& core, ChainGate& chains, CharacterCreator& characters, StatusPolls& polls,
            Reconciliation& reconciliation, FailedRequests& failures);
  Status load_budget();
  void start(Millis now);
  // First in line: a released child, a character's jobs, a job proven never started.
  void push_front(JobRecord rec) {
    m_gated.erase(rec.row_id);
    m_queue.push_front(std::move(rec));
  }
  // A create retry is due: back to the queue, first in line, its failures still counted.
  void retry_due(LiveJob& job);
  bool done() const;
  bool budget_reached() const { return m_budget_reached; }
  // Worker mode: queued jobs a gate kept waiting (for a parent, a character) when last seen.
  std::size_t gated() const { return m_gated.size(); }
  Millis next_wake(Millis now, Millis wake) const;
  void on_answer(std::int64_t row_id, HttpResult& result, Millis now) override;
  // Writes the progress of open streams to the ledger while they stay open (throttled).
  void record_stream_progress(Millis now);

 private:
  void fill_queue();
  void admit_from_ledger(Millis now);
  bool within_budget(const JobRecord& rec);
  // Submissions stop at `rec`, which would pass limits.budget_usd with `spent_usd` sent.
  void stop_at_budget(const JobRecord& rec, double spent_usd);
  bool sent_twice(LiveJob& job, const HttpResult& result, Millis now);
  std::optional<double> end_stream(std::int64_t row_id, HttpResult& result);
  // The answer's lesson on the provider's limits; a notice when they were halved.
  void learn_limits(const HttpResponse& response, const AnswerClass& answer, Millis sent_at,
                    Millis now);
  // Worker mode: what this answer changed in the learnt limits, written to the ledger.
  void share_limits(const LearntLimits& before, const LearntLimits& after);

  RunCore& m_core;
  ChainGate& m_chains;
  CharacterCreator& m_characters;
  StatusPolls& m_polls;
  Reconciliation& m_reconciliation;
  FailedRequests& m_failures;
  std::deque<JobRecord> m_queue;  // queued jobs fetched from the ledger
  std::int64_t m_cursor = 0;
  bool m_exhausted = false;
  Millis m_next_admission = 0;    // worker mode: no admission before
  LearntLimits m_shared;          // worker mode: the ledger's learnt limits, as last seen
  bool m_budget_reached = false;  // this loop stopped submitting at the budget
  std::unordered_map<std::int64_t, FailureStreak> m_retry_streaks;  // of jobs waiting to retry
  std::unordered_set<std::int64_t> m_gated;
  std::unordered_map<std::int64_t, std::unique_ptr<StreamedAnswer>> m_streams;  // open creates
};

// Derived jobs (remix_of, edit_of, extend_of) wait in memory until their parent is done.
class ChainGate {
 public:
  ChainGate(RunCore& core, Submitter& submitter);
  Gate check(JobRecord& rec, CreateContext& context);
  // Children of a parent that just ended go on (done) or fail with it.
  void release(const JobRecord& parent);
  void note_waiting();

 private:
  void fail_child(JobRecord child, const std::optional<JobRecord>& parent);

  RunCore& m_core;
  Submitter& m_submitter;
  std::unordered_map<std::string, std::vector<JobRecord>> m_waiting;  // by parent
};

// Characters (cameos): a job naming characters is sent once each has an id at the provider.
// A character is created at most once per provider and name: `creating` is committed before its
// request leaves, and a request whose answer is lost leaves it `ambiguous` for the user.
class CharacterCreator final : public RequestOwner {
 public:
  CharacterCreator(RunCore& core, Submitter& submitter);
  Gate check(JobRecord& rec, CreateContext& context);
  void start(Millis now);
  bool pending() const;
  Millis next_wake(Millis wake) const;
  void on_answer(std::int64_t index, HttpResult& result, Millis now) override;

 private:
  struct Task {
    std::string name;
    std::string video_path;
    CharacterState state = CharacterState::pending;
    bool in_flight = false;
    bool noted = false;  // the "held" notice was shown
    FailureStreak failures;
    Millis due = 0;                  // next create attempt not before
    std::vector<JobRecord> waiting;  // queued jobs that need it
  };
  Task& task(const std::string& name);
  void settle_failed(Task& task, const RetryDecision& decision, Millis now);

  RunCore& m_core;
  Submitter& m_submitter;
  std::vector<Task> m_tasks;  // request key = index
  std::unordered_map<std::string, std::size_t> m_index;
};

class StatusPolls final : public RequestOwner {
 public:
  StatusPolls(RunCore& core, FailedRequests& failures, ListingSweep& sweep);
  void start_waiting(Millis now);
  void on_answer(std::int64_t row_id, HttpResult& result, Millis now) override;
  // A status learnt from the job's own query or from a listing page: transitions, then the
  // job's next check.
  void on_status(LiveJob& job, const RemoteStatus& status, int http_status, Millis now);
  // What a status means for the job (a create answer's status too).
  void apply(LiveJob& job, const RemoteStatus& status, int http_status, Millis now);
  // The provider lost the job's id and its listing does not settle the job: held `ambiguous`
  // for `vidbatch resolve`, never created again nor failed.
  void hold_lost(LiveJob& job, const std::string& why);

 private:
  void start(LiveJob& job, Millis now);
  // RemotePhase::lost: the job's next checks look for its id in the listing (ListingSweep).
  void on_lost(LiveJob& job, const RemoteStatus& status);

  RunCore& m_core;
  FailedRequests& m_failures;
  ListingSweep& m_sweep;
};

// The requests between "completed" and the bytes (VideoProvider::resolve_request), each
// retried as a status query; the URL learnt goes into the job's status, then to the Downloader.
class UrlResolver final : public RequestOwner {
 public:
  UrlResolver(RunCore& core, FailedRequests& failures);
  // Sends the job's resolve request when its status needs one; false when it needs none.
  bool start(LiveJob& job, Millis now);
  void on_answer(std::int64_t row_id, HttpResult& result, Millis now) override;

 private:
  RunCore& m_core;
  FailedRequests& m_failures;
};

class Downloader final : public RequestOwner {
 public:
  Downloader(RunCore& core, FailedRequests& failures, ThumbnailFetcher& thumbnails,
             UrlResolver& resolver);
  void start_waiting(Millis now);
  void on_answer(std::int64_t row_id, HttpResult& result, Millis now) override;
  void take_finished(Millis now);
  bool busy() const { return m_finisher->pending() > 0; }
  // A refused download goes back to `ready` to learn a fresh status.
  void return_for_status(LiveJob& job, const std::string& message);
  // A disk error is every video's: the job goes back to `ready` and the run stops.
  void stop_on_disk_error(LiveJob& job, const std::string& message, const std::string& remedy);

 private:
  void start(LiveJob& job, Millis now);
  void finish(LiveJob& job, const HttpResult& result);
  void on_finished(FinishOutcome& outcome, Millis now);

  RunCore& m_core;
  FailedRequests& m_failures;
  ThumbnailFetcher& m_thumbnails;
  UrlResolver& m_resolver;
  std::unique_ptr<FinishPool> m_finisher;
  std::size_t m_in_flight = 0;
};

class FailedRequests {
 public:
  FailedRequests(RunCore& core, Downloader& downloads, Reconciliation& reconciliation);
  void on_failed(LiveJob& job, RequestPhase phase, const AnswerClass& answer, int http_status,
                 Millis now);
  // The status a poll-phase answer (a query, a URL resolution) carries, read by `parse`;
  // nullopt once a failed or unreadable answer went to on_failed (retried as a failed poll).
  std::optional<RemoteStatus> read_poll_answer(
      LiveJob& job, const HttpResult& result, Millis now,
      const std::function<Result<RemoteStatus>(const HttpResponse&)>& parse);

 private:
  RunCore& m_core;
  Downloader& m_downloads;
  Reconciliation& m_reconciliation;
};

// One walk through the provider's video listing, page by page (newest first).
class ListingPages {
 public:
  explicit ListingPages(RunCore& core) : m_core(core) {}
  bool in_flight() const { return m_in_flight; }
  int pages() const { return m_pages; }
  // The next page's request: the first after restart(), else the one after the last page read.
  void send_next(RequestOwner& owner, Traffic traffic, Millis now);
  void restart();
  // The page an answer carries; an Error when it has none. `kind`: the provider's reading of
  // the answer (`rejected`: there is no listing here; `slow_down`: ask again later).
  Result<RemotePage> read(const HttpResult& result, Millis now, AnswerKind& kind);

 private:
  RunCore& m_core;
  bool m_in_flight = false;
  int m_pages = 0;
  std::string m_after;
};

// Ambiguous creates: where the dialect lists videos, the listing decides (engine/reconciler.h);
// where it cannot, retry.ambiguous_policy does (hold by default).
class Reconciliation final : public RequestOwner {
 public:
  Reconciliation(RunCore& core, Submitter& submitter);
  Status load();
  // The job's create may have started a video: it leaves the loop, held for reconciliation.
  void hold(LiveJob& job, const std::string& code, const std::string& message, int http_status,
            Millis now);
  void start(Millis now);
  bool pending() const { return !m_jobs.empty(); }
  // Worker mode: takes (or renews) the provider's listing leadership and, when held, loads the
  // scope's ambiguous jobs to reconcile from the ledger; true when there are some.
  bool lead(Millis now);
  Millis next_wake(Millis wake) const;
  void on_answer(std::int64_t key, HttpResult& result, Millis now) override;

 private:
  struct Held {
    AmbiguousCreate create;
    JobRecord rec;
  };
  // Worker mode: drops the held jobs that are live in this loop (their records are stale).
  void drop_taken_up();
  void decide(Millis now);
  void note_unclaimed(const std::unordered_set<std::string>& claimed, Millis now);
  void apply_policy();

  RunCore& m_core;
  Submitter& m_submitter;
  ListingPages m_pages;
  std::vector<Held> m_jobs;  // waiting for reconciliation
  Listing m_listing;
  int m_failures = 0;
  Millis m_due = 0;
  std::unordered_set<std::string> m_unclaimed_noted;  // paid, unclaimed videos already told
  std::unordered_set<std::int64_t> m_left_to_user;    // worker mode: not loaded again
};

// Status by listing (limits.poll_by_listing): due jobs wait for a sweep of listing pages
// (one status token per page) instead of one query each. A page says "still queued or
// running". A job it shows failed, and a job no page showed, gets its own query next, so
// error details come from the answer the dialect defines for them. A job it shows completed
// does too, until one such query has answered with the same download URL as the page (none,
// for OpenAI's Video objects): from then on a completed entry stands for the job's own answer.
// Jobs whose id the provider lost (LiveJob::lost) are swept whether or not the option is on:
// the listing is all that is left to say what became of them.
class ListingSweep final : public RequestOwner {
 public:
  ListingSweep(RunCore& core, StatusPolls& polls);
  // Whether the provider's listing may be asked (it has one, and it did not refuse it).
  bool may_list() const;
  // Whether every due job's status comes from the listing (limits.poll_by_listing).
  bool enabled() const;
  bool wants_page() const;
  void advance(Millis now);
  void on_answer(std::int64_t key, HttpResult& result, Millis now) override;
  // A job a page showed completed has answered its own query: may pages stand for answers?
  void learn(const std::string& listed_url, const RemoteStatus& answer);

 private:
  void begin();
  // `walked`: the pages were read to the end of the walk (not cut by a failed page).
  void end(bool walked, Millis now);
  void stop_sweeping(const std::string& why);
  void settle_lost(LiveJob& job, const RemoteStatus& listed, int http_status, Millis now);

  RunCore& m_core;
  StatusPolls& m_polls;
  ListingPages m_pages;
  bool m_active = false;
  std::vector<Timer> m_targets;                                  // the due jobs it looks for
  std::unordered_map<std::string, std::int64_t> m_by_remote_id;  // jobs at the provider, unseen
  int m_max_pages = 0;
  int m_found = 0;
  int m_failures = 0;      // pages failed in a row
  int m_empty_sweeps = 0;  // sweeps in a row that found none of their jobs
  bool m_off = false;
  enum class ListedAnswers {
    unverified,
    final,
    not_final
  } m_listed_answers = ListedAnswers::unverified;
};

// A done video's thumbnail, fetched beside it (output.thumbnails): best effort, retried once,
// never failing a job, outside limits.max_in_flight and limits.max_downloads.
class ThumbnailFetcher final : public RequestOwner {
 public:
  explicit ThumbnailFetcher(RunCore& core) : m_core(core) {}
  void queue(const LiveJob& job, Millis now);
  void start(Millis now);
  bool pending() const { return !m_tasks.empty(); }
  Millis next_wake(Millis wake) const;
  void on_answer(std::int64_t row_id, HttpResult& result, Millis now) override;

 private:
  struct Task {
    HttpRequest request;
    std::string path;  // where it is saved
    std::string job;   // "batch/id", for notices
    int attempts = 0;
    bool in_flight = false;
    Millis due = 0;
  };
  void note_failure(const Task& task, bool refused, const std::string& problem);

  RunCore& m_core;
  std::unordered_map<std::int64_t, Task> m_tasks;  // by row id
  int m_saved = 0;
  int m_failures = 0;
  bool m_off = false;  // the provider refused them: not asked again
};

// The sidecar `{id}.json` next to a video: a readable copy of its ledger row.
std::string sidecar_json(const JobRecord& rec, const FinishedVideo& video, Millis now);

}  // namespace vb
