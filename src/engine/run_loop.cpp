// The run loop itself: loading live jobs, submissions within limits and budget, transitions,
// the turn of the loop and its stop. Timers and waiting queues: run_scheduling.cpp; derived
// jobs waiting for their parent: run_chains.cpp; answers: run_handlers.cpp.
#include "engine/run_loop.h"
#include "job/failure_codes.h"

#include <algorithm>

#include "plan/pricing.h"

namespace vb {

namespace {

constexpr int k_queue_page = 256;
constexpr Millis k_max_wait_ms = 100;        // loop turn ceiling: signals are noticed this fast
constexpr Millis k_stop_grace_ms = 5000;     // in-flight requests may finish this long after a stop
constexpr Millis k_tick_interval_ms = 250;
// Transitions are committed together at most this long after the first of them (group commit:
// jobs that move together share the pages they dirty). Exceptions commit at once: `submitting`
// before any create leaves, a remote id as soon as it is known, and before the ledger is read.
constexpr Millis k_commit_interval_ms = 50;
constexpr std::size_t k_commit_max_pending = 1024;
constexpr int k_finish_threads = 2;          // each flush is shared by every file its worker finds waiting

double burst_for(double per_second) {
  // Enough tokens to cover one loop turn, never less than one.
  return std::max(1.0, per_second * 0.5);
}

// polls_per_second is a promise about every second, which a bucket alone breaks by its
// burst: at most that many polls leave in any 1.05 s (the 50 ms absorb the jitter between
// leaving here and arriving there).
WindowCap poll_window(double per_second) {
  constexpr Millis k_window_ms = 1050;
  return per_second >= 1.0 ? WindowCap{static_cast<std::size_t>(per_second), k_window_ms}
                           : WindowCap{};
}

bool counts_at_provider(JobState s) {
  return s == JobState::submitting || s == JobState::submitted || s == JobState::running;
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
    : m_e(engine),
      m_finisher(std::make_unique<FinishPool>(k_finish_threads,
                                              [&engine] { engine.m_transport.wakeup(); })),
      m_scope(scope),
      m_submit_limiter(engine.m_config.limits.submits_per_minute / 60.0,
                       burst_for(engine.m_config.limits.submits_per_minute / 60.0)),
      m_poll_limiter(engine.m_config.limits.polls_per_second,
                     burst_for(engine.m_config.limits.polls_per_second),
                     poll_window(engine.m_config.limits.polls_per_second)),
      m_poll_concurrency(engine.m_config.limits.polls_per_second, k_connections_per_origin) {}

bool RunEngine::Loop::for_this_provider(const JobRecord& rec) const {
  const Config& config = m_e.m_config;
  const std::string& named = rec.spec.provider.empty() ? config.default_provider : rec.spec.provider;
  return named == config.provider.name;
}

bool RunEngine::Loop::in_scope(const JobRecord& rec) const {
  return (!m_scope.batch || rec.batch == *m_scope.batch) && for_this_provider(rec);
}

Status RunEngine::Loop::load_live_jobs() {
  auto counts = m_e.m_store.count_states();
  if (!counts) {
    return std::unexpected(counts.error());
  }
  for (const auto& c : *counts) {
    if (!m_scope.batch || c.batch == *m_scope.batch) {
      m_counts.by_state[static_cast<std::size_t>(c.state)] += c.count;
    }
  }
  const JobState live_states[] = {JobState::submitted, JobState::running, JobState::ready};
  Millis now = m_e.m_clock.now_ms();
  std::int64_t cursor = 0;
  while (true) {
    auto page = m_e.m_store.jobs_in_states(live_states, cursor, 1000);
    if (!page) {
      return std::unexpected(page.error());
    }
    for (auto& rec : *page) {
      cursor = rec.row_id;
      if (!in_scope(rec)) {
        continue;
      }
      LiveJob& job = m_live[rec.row_id];
      job.rec = std::move(rec);
      job.poll_interval = m_e.m_config.limits.poll_interval_ms;
      m_at_provider += counts_at_provider(job.rec.state) ? 1 : 0;
      // A completed video the content route serves by id is fetched at once: a resumed batch
      // of ready videos costs no status query each (at 5 polls/s, 10,000 of them took over
      // half an hour). Elsewhere a fresh status first, since stored URLs may have expired.
      job.by_id = job.rec.state == JobState::ready && m_e.m_provider.downloads_by_id();
      schedule(job, now);
    }
    if (page->size() < 1000) {
      return {};
    }
  }
}

void RunEngine::Loop::fill_queue() {
  if (m_queue_exhausted || m_queue.size() >= k_queue_page / 2) {
    return;
  }
  const JobState queued[] = {JobState::queued};
  while (m_queue.size() < k_queue_page && !m_queue_exhausted) {
    flush();  // the ledger read below sees every transition
    auto page = m_e.m_store.jobs_in_states(queued, m_queue_cursor, k_queue_page);
    if (!page) {
      set_fatal(page.error());
      return;
    }
    m_queue_exhausted = page->size() < static_cast<std::size_t>(k_queue_page);
    for (auto& rec : *page) {
      m_queue_cursor = rec.row_id;
      if (in_scope(rec)) {
        m_queue.push_back(std::move(rec));
      }
    }
  }
}

void RunEngine::Loop::start_submissions(Millis now) {
  const auto& limits = m_e.m_config.limits;
  std::vector<std::pair<LiveJob*, CreateContext>> batch;
  fill_queue();
  while (!m_queue.empty() && m_at_provider < static_cast<std::size_t>(limits.max_in_flight) &&
         m_queue.front().not_before <= now) {
    CreateContext context;
    ParentGate gate = gate_on_parent(context);
    if (gate == ParentGate::submit) {
      gate = gate_on_characters(context);
    }
    if (gate == ParentGate::stop) {
      break;
    }
    if (gate == ParentGate::skipped) {
      fill_queue();
      continue;
    }
    if (!connection_free(batch.size()) || !m_submit_limiter.try_take(now) ||
        !within_budget(m_queue.front())) {
      break;
    }
    JobRecord rec = std::move(m_queue.front());
    m_queue.pop_front();
    LiveJob& job = m_live[rec.row_id];
    job.rec = std::move(rec);
    job.poll_interval = limits.poll_interval_ms;
    job.sent_at = now;
    if (auto failed = m_submit_failures.find(job.rec.row_id); failed != m_submit_failures.end()) {
      job.streak(RequestPhase::submit) = failed->second;  // retries keep counting
      m_submit_failures.erase(failed);
    }
    JobUpdate update;
    update.increment_attempt = true;
    transition(job, JobState::submitting, "create request sent (attempt " +
                                              std::to_string(job.rec.attempt + 1) + ")",
               update);
    batch.emplace_back(&job, std::move(context));
    fill_queue();
  }
  if (batch.empty()) {
    return;
  }
  flush();  // `submitting` is durable before any create request leaves
  if (m_fatal) {
    return;
  }
  for (auto& [job, context] : batch) {
    auto request = m_e.m_provider.create_request(job->rec.spec, context);
    if (!request) {
      fail_job(*job, failure::invalid_request, request.error().describe());
      continue;
    }
    request->timeout_ms = m_e.m_config.http.request_timeout_ms;
    request->paid = true;
    job->in_flight = RequestKind::submit;
    m_e.m_transport.start(std::move(*request), static_cast<std::uint64_t>(job->rec.row_id));
  }
}

void RunEngine::Loop::transition(LiveJob& job, JobState to, const std::string& message,
                                 JobUpdate update, int http_status) {
  JobState from = job.rec.state;
  Millis now = m_e.m_clock.now_ms();
  update.add_polls += job.unsaved_polls;
  update.add_retries += job.unsaved_retries;
  job.unsaved_polls = 0;
  job.unsaved_retries = 0;
  Transition t{job.rec.row_id, from, to, now, http_status, message, update};
  // Mirror the ledger in memory at once; flush() makes it durable.
  job.rec.state = to;
  if (update.remote_id) job.rec.remote_id = *update.remote_id;
  if (update.progress) job.rec.progress = *update.progress;
  if (update.not_before) job.rec.not_before = *update.not_before;
  if (update.error_code) job.rec.error_code = *update.error_code;
  if (update.error_message) job.rec.error_message = *update.error_message;
  if (update.submitted_at) job.rec.submitted_at = *update.submitted_at;
  if (update.completed_at) job.rec.completed_at = *update.completed_at;
  if (update.increment_attempt) job.rec.attempt += 1;
  m_at_provider += counts_at_provider(to) ? 1 : 0;
  m_at_provider -= counts_at_provider(from) ? 1 : 0;
  m_counts.by_state[static_cast<std::size_t>(from)] -= 1;
  m_counts.by_state[static_cast<std::size_t>(to)] += 1;
  m_flush_now = m_flush_now || update.remote_id.has_value();
  m_pending_notes.emplace_back(job.rec, t);
  m_pending.push_back(std::move(t));
  release_children(job.rec);
}

void RunEngine::Loop::flush_if_due(Millis now) {
  if (m_pending.empty()) {
    m_last_flush = now;  // the interval counts from the first transition waiting
  } else if (m_flush_now || now - m_last_flush >= k_commit_interval_ms ||
             m_pending.size() >= k_commit_max_pending) {
    flush();
    m_last_flush = now;
  }
}

void RunEngine::Loop::flush() {
  m_flush_now = false;
  if (m_pending.empty()) {
    return;
  }
  auto status = m_e.m_store.apply(m_pending);
  if (!status) {
    set_fatal(status.error());
  }
  for (const auto& [rec, t] : m_pending_notes) {
    m_e.m_observer.on_transition(rec, t.from, t.to, t.message, t.http_status);
  }
  m_pending.clear();
  m_pending_notes.clear();
}

void RunEngine::Loop::set_fatal(Error error) {
  if (!m_fatal) {
    m_e.m_observer.on_notice("stopping: " + error.describe());
    m_fatal = std::move(error);
  }
  m_stopping = true;
}

void RunEngine::Loop::forget(LiveJob& job) {
  if (job.file) {
    job.file->discard();
  }
  std::int64_t id = job.rec.row_id;  // erase() must not read the key from the dying node
  m_live.erase(id);
}

bool RunEngine::Loop::finished() const {
  if (m_e.m_transport.in_flight() > 0 || m_finisher->pending() > 0) {
    return false;
  }
  if (m_stopping) {
    return true;
  }
  bool queue_done = (m_queue.empty() && m_queue_exhausted) || m_budget_reached;
  return m_live.empty() && queue_done && m_ambiguous.empty() && !characters_pending() &&
         m_thumbnails.empty();
}

Millis RunEngine::Loop::next_wake(Millis now) const {
  Millis wake = now + k_max_wait_ms;
  if (!m_pending.empty()) {
    wake = std::min(wake, m_last_flush + k_commit_interval_ms);
  }
  if (!m_timers.empty()) {
    wake = std::min(wake, m_timers.top().at);
  }
  // With every poll slot taken, the next answer wakes the loop (no spinning on a free token).
  if ((!m_polls_waiting.empty() || sweep_wants_page()) && connection_free() &&
      m_poll_concurrency.may_start(m_polls_sent.size())) {
    wake = std::min(wake, m_poll_limiter.next_available(now));
  }
  if (!m_ambiguous.empty() && !m_listing_in_flight) {
    wake = std::min(wake, m_reconcile_due);
  }
  for (const auto& task : m_characters) {
    if (!task.in_flight && !task.waiting.empty() && task.state == CharacterState::pending) {
      wake = std::min(wake, task.due);
    }
  }
  wake = next_thumbnail_due(wake);
  if (!m_queue.empty() && m_at_provider < static_cast<std::size_t>(m_e.m_config.limits.max_in_flight)) {
    wake = std::min(wake, std::max(m_queue.front().not_before, m_submit_limiter.next_available(now)));
  }
  return std::max(wake, now);
}

void RunEngine::Loop::tick(Millis now, bool force) {
  if (force || now - m_last_tick >= k_tick_interval_ms) {
    m_last_tick = now;
    m_e.m_observer.on_tick(m_counts, now);
  }
}

Result<RunSummary> RunEngine::Loop::run(const std::atomic<int>& stop_requests) {
  if (auto status = load_live_jobs(); !status) {
    return std::unexpected(status.error());
  }
  if (auto status = load_ambiguous_jobs(); !status) {
    return std::unexpected(status.error());
  }
  if (auto status = load_budget(); !status) {
    return std::unexpected(status.error());
  }
  while (true) {
    Millis now = m_e.m_clock.now_ms();
    if (stop_requests.load() >= 1 && !m_stopping) {
      m_stopping = true;
      m_stop_deadline = now + k_stop_grace_ms;
      m_e.m_observer.on_notice("interrupted: finishing requests in flight (Ctrl-C again to abort)");
    }
    if (m_stopping && m_stop_deadline == 0) {
      m_stop_deadline = now + k_stop_grace_ms;
    }
    if (stop_requests.load() >= 2 || (m_stopping && now >= m_stop_deadline)) {
      m_e.m_transport.abort_all();
    }
    if (!m_stopping) {
      start_listing(now);
      start_characters(now);
      start_thumbnails(now);
      start_submissions(now);
      run_timers(now);
    }
    flush_if_due(now);
    tick(now, false);
    if (finished()) {
      flush();
      break;
    }
    auto results = m_e.m_transport.poll(next_wake(now) - now);
    now = m_e.m_clock.now_ms();
    for (auto& result : results) {
      handle(std::move(result), now);
    }
    for (auto& outcome : m_finisher->take_done()) {
      on_finished(outcome, now);
    }
    flush_if_due(now);
  }
  tick(m_e.m_clock.now_ms(), true);
  note_waiting_children();
  RunSummary summary;
  summary.counts = m_counts;
  summary.interrupted = stop_requests.load() >= 1;
  summary.fatal = m_fatal;
  summary.budget_reached = m_budget_reached;
  summary.resent_requests = m_resent;
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

Status RunEngine::Loop::load_budget() {
  if (!m_e.m_budget->limit()) {
    return {};
  }
  // What the ledger has already sent to this provider counts against the budget.
  auto jobs = m_e.m_store.list_jobs({});
  if (!jobs) {
    return std::unexpected(jobs.error());
  }
  double spent = 0;
  for (const auto& job : *jobs) {
    bool sent = job.submitted_at != 0 || job.state == JobState::submitting ||
                job.state == JobState::ambiguous;
    if (sent && for_this_provider(job)) {
      spent += estimate_cost(job.spec, m_e.m_config.prices).value_or(0.0);
    }
  }
  m_e.m_budget->add_spent(spent);
  return {};
}

bool RunEngine::Loop::within_budget(const JobRecord& rec) {
  const auto budget = m_e.m_budget->limit();
  if (!budget || m_budget_reached) {
    return !m_budget_reached;
  }
  auto cost = estimate_cost(rec.spec, m_e.m_config.prices);
  if (cost && m_e.m_budget->try_spend(*cost)) {
    return true;
  }
  m_budget_reached = true;
  m_e.m_budget->mark_reached();
  m_e.m_observer.on_notice(
      !cost ? "budget: no price for " + rec.spec.model + " " + priced_size(rec.spec) +
                  " in [prices]; submissions stopped (add a price or remove the budget)"
            : "budget: submitting " + rec.batch + "/" + rec.spec.id + " (" + format_usd(cost) +
                  ") would pass limits.budget_usd (" + format_usd(*budget) + ", " +
                  format_usd(m_e.m_budget->spent()) + " already sent); the rest stays queued. "
                  "Raise the budget and run `vidbatch resume` to go on");
  return false;
}

Result<int> recover_interrupted_jobs(JobStore& store, Millis now) {
  const JobState stuck[] = {JobState::submitting, JobState::downloading};
  auto jobs = store.jobs_in_states(stuck, 0, 1 << 30);
  if (!jobs) {
    return std::unexpected(jobs.error());
  }
  std::vector<Transition> moves;
  for (const auto& job : *jobs) {
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
  if (auto status = store.apply(moves); !status) {
    return std::unexpected(status.error());
  }
  return static_cast<int>(moves.size());
}

}  // namespace vb
