// The run loop: load the ledger's live jobs, then turn by turn start what may start, route due
// jobs to their request family, wait for answers and hand each to the family that sent it.
#include "engine/run_loop.h"
#include "job/failure_codes.h"

#include <algorithm>

namespace vb {

namespace {

constexpr Millis k_max_wait_ms = 100;     // loop turn ceiling: signals are noticed this fast
constexpr Millis k_stop_grace_ms = 5000;  // in-flight requests may finish this long after a stop
// A recorded URL this close to its expiry is resolved again rather than tried: the download
// may outlast it.
constexpr Millis k_url_margin_ms = 60000;

// Generating at the provider: what a listing page can answer for. A `ready` job whose
// stored status is stale (a resumed run) needs its own answer's URL.
bool generating(JobState s) {
  return s == JobState::submitted || s == JobState::running;
}

}  // namespace

std::int64_t RunCounts::total() const {
  std::int64_t sum = 0;
  for (auto n : by_state) {
    sum += n;
  }
  return sum;
}

RunEngine::Loop::Loop(RunEngine& engine, const RunScope& scope)
    : m_core(RunDeps{engine.m_store, engine.m_provider, engine.m_transport, engine.m_clock,
                     engine.m_config, engine.m_observer, *engine.m_budget, scope}),
      m_failures(m_core, m_downloads, m_reconciliation),
      m_submitter(m_core, m_chains, m_characters, m_polls, m_reconciliation, m_failures),
      m_chains(m_core, m_submitter),
      m_characters(m_core, m_submitter),
      m_polls(m_core, m_failures, m_sweep),
      m_sweep(m_core, m_polls),
      m_resolver(m_core, m_failures),
      m_downloads(m_core, m_failures, m_thumbnails, m_resolver),
      m_thumbnails(m_core),
      m_reconciliation(m_core, m_submitter) {}

Status RunEngine::Loop::load_live_jobs() {
  auto counts = VB_TRY(m_core.store().count_states());
  RunCounts seed;
  for (const auto& c : counts) {
    if (!m_core.in_scope_batch(c.batch)) {
      continue;
    }
    seed.by_state[static_cast<std::size_t>(c.state)] += c.count;
  }
  m_core.seed_counts(seed);
  const JobState live_states[] = {JobState::submitted, JobState::running, JobState::ready};
  const Millis now = m_core.now();
  const bool by_id = m_core.provider().downloads_by_id();
  return m_core.each_stored(live_states, [&](JobRecord rec) -> Status {
    LiveJob& job = m_core.admit(std::move(rec));
    // A completed video the content route serves by id, or whose recorded URL is still valid,
    // is fetched at once: a resumed batch of ready videos costs no status query each (at 5
    // polls/s, 10,000 of them took over half an hour). Elsewhere a fresh status first: a URL
    // that expired (or never said when it would) is resolved again, never generated again.
    if (job.rec.state == JobState::ready) {
      const DownloadUrl& stored = job.rec.download;
      const bool url_valid = !stored.url.empty() && stored.expires_at > now + k_url_margin_ms;
      if (url_valid && !by_id) {
        job.last.phase = RemotePhase::completed;
        job.last.video_url = stored.url;
        job.last.expires_at = stored.expires_at;
      }
      job.from_ledger = by_id || url_valid;
    }
    m_core.schedule(job, now);
    return {};
  });
}

void RunEngine::Loop::start_requests(Millis now) {
  m_reconciliation.start(now);
  m_characters.start(now);
  m_thumbnails.start(now);
  m_submitter.start(now);
  route_due_jobs(now);
}

// Due jobs whose request cannot start yet (no status token, no free connection, every
// download slot busy) wait in first-come queues rather than being re-timed: fair, and no heap
// churn.
void RunEngine::Loop::route_due_jobs(Millis now) {
  Scheduler& scheduler = m_core.scheduler();
  while (auto timer = scheduler.pop_due(now)) {
    LiveJob* job = m_core.due_job(*timer);
    if (job == nullptr) {
      continue;  // superseded
    }
    const JobState state = job->rec.state;
    if (state == JobState::queued) {
      m_submitter.retry_due(*job);
    } else if ((state == JobState::ready && (job->status_fresh || job->from_ledger)) ||
               state == JobState::downloading) {
      scheduler.waiting(WaitQueue::download).push_back(*timer);
    } else if (m_sweep.enabled() && !job->poll_directly && generating(state)) {
      scheduler.waiting(WaitQueue::sweep).push_back(*timer);
    } else {
      scheduler.waiting(WaitQueue::poll).push_back(*timer);
    }
  }
  m_downloads.start_waiting(now);
  m_polls.start_waiting(now);
}

bool RunEngine::Loop::finished() const {
  if (m_core.in_flight() > 0 || m_downloads.busy()) {
    return false;
  }
  if (m_core.stopping()) {
    return true;
  }
  return m_core.no_live_jobs() && m_submitter.done() && !m_reconciliation.pending() &&
         !m_characters.pending() && !m_thumbnails.pending();
}

Millis RunEngine::Loop::next_wake(Millis now) const {
  Millis wake = now + k_max_wait_ms;
  const Scheduler& scheduler = m_core.scheduler();
  if (auto flush = m_core.flush_due()) {
    wake = std::min(wake, *flush);
  }
  if (auto timer = scheduler.next_timer()) {
    wake = std::min(wake, *timer);
  }
  // With every status slot taken, the next answer wakes the loop (no spinning on a free token).
  if ((!scheduler.waiting(WaitQueue::poll).empty() || m_sweep.wants_page()) &&
      m_core.connection_free() && scheduler.status_slot_free(m_core.status_in_flight())) {
    wake = std::min(wake, scheduler.next_status_token(now));
  }
  wake = m_reconciliation.next_wake(wake);
  wake = m_characters.next_wake(wake);
  wake = m_thumbnails.next_wake(wake);
  wake = m_submitter.next_wake(now, wake);
  return std::max(wake, now);
}

Result<RunSummary> RunEngine::Loop::run(const std::atomic<int>& stop_requests) {
  VB_TRY(load_live_jobs());
  VB_TRY(m_reconciliation.load());
  VB_TRY(m_submitter.load_budget());
  while (true) {
    Millis now = m_core.now();
    if (stop_requests.load() >= 1 && !m_core.stopping()) {
      m_core.stop();
      m_stop_deadline = now + k_stop_grace_ms;
      m_core.notice(NoticeKind::interrupted, "", "interrupted: finishing requests in flight");
    }
    if (m_core.stopping() && m_stop_deadline == 0) {
      m_stop_deadline = now + k_stop_grace_ms;
    }
    if (stop_requests.load() >= 2 || (m_core.stopping() && now >= m_stop_deadline)) {
      m_core.transport().abort_all();
    }
    if (!m_core.stopping()) {
      start_requests(now);
    }
    m_core.flush_if_due(now);
    m_core.tick(now, false);
    m_core.end_turn();
    if (finished()) {
      m_core.flush();
      break;
    }
    auto results = m_core.transport().poll(next_wake(now) - now);
    now = m_core.now();
    for (auto& result : results) {
      m_core.dispatch(std::move(result), now);
    }
    m_downloads.take_finished(now);
    m_core.flush_if_due(now);
    m_core.end_turn();
  }
  m_core.tick(m_core.now(), true);
  m_chains.note_waiting();
  RunSummary summary;
  summary.counts = m_core.counts();
  summary.interrupted = stop_requests.load() >= 1;
  summary.fatal = m_core.fatal();
  summary.budget_reached = m_submitter.budget_reached();
  summary.resent_requests = m_core.resent();
  return summary;
}

RunEngine::RunEngine(JobStore& store, const VideoProvider& provider, HttpTransport& transport,
                     const Clock& clock, const Config& config, RunObserver& observer)
    : m_store(store),
      m_provider(provider),
      m_transport(transport),
      m_clock(clock),
      m_config(config),
      m_observer(observer),
      m_budget(std::make_shared<SharedBudget>(config.budget_usd)) {}

RunEngine::~RunEngine() = default;

void RunEngine::share_budget(std::shared_ptr<SharedBudget> budget) {
  m_budget = std::move(budget);
}

Result<RunSummary> RunEngine::run(const RunScope& scope, const std::atomic<int>& stop_requests) {
  Loop loop(*this, scope);
  return loop.run(stop_requests);
}

Result<int> recover_interrupted_jobs(JobStore& store, Millis now) {
  const JobState stuck[] = {JobState::submitting, JobState::downloading};
  auto jobs = VB_TRY(store.jobs_in_states(stuck, 0, 1 << 30));
  std::vector<Transition> moves;
  for (const auto& job : jobs) {
    Transition t{job.row_id, job.state, JobState::ready, now, 0, "", {}};
    if (job.state == JobState::submitting) {
      t.to = JobState::ambiguous;
      t.message = "the previous run stopped after the create request left and before its "
                  "answer was stored; a video may have been started";
      t.update.error_code = failure::create_ambiguous;
      t.update.error_message = t.message;
    } else {
      t.message = "the previous run stopped mid-download; downloading again";
    }
    moves.push_back(std::move(t));
  }
  VB_TRY(store.apply(moves));
  return static_cast<int>(moves.size());
}

}  // namespace vb
