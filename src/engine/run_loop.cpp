// The run loop: load the ledger's live jobs, then turn by turn start what may start, route due
// jobs to their request family, wait for answers and hand each to the family that sent it.
#include "engine/run_loop.h"

#include <algorithm>
#include <optional>
#include <span>
#include <tuple>

#include "job/failure_codes.h"

namespace vb {

namespace {

constexpr Millis k_max_wait_ms = 100;     // loop turn ceiling: signals are noticed this fast
constexpr Millis k_stop_grace_ms = 5000;  // in-flight requests may finish this long after a stop
// Worker mode: how often jobs to poll and download are claimed while the ledger had none left
// to give, and how often it is asked whether its scope still has work (jobs another worker
// holds, or one a rescuer released).
constexpr Millis k_claim_interval_ms = 500;
constexpr Millis k_ledger_check_ms = 500;
// A recorded URL this close to its expiry is resolved again rather than tried: the download
// may outlast it.
constexpr Millis k_url_margin_ms = 60000;

// A completed video the content route serves by id, or whose recorded URL is still valid, is
// fetched at once: a resumed batch of ready videos costs no status query each (at 5 polls/s,
// 10,000 of them took over half an hour). Elsewhere a fresh status first: a URL that expired
// (or never said when it would) is resolved again, never generated again.
void download_from_ledger(LiveJob& job, bool by_id, Millis now) {
  if (job.rec.state != JobState::ready) {
    return;
  }
  const DownloadUrl& stored = job.rec.download;
  const bool url_valid = !stored.url.empty() && stored.expires_at > now + k_url_margin_ms;
  if (url_valid && !by_id) {
    job.last.phase = RemotePhase::completed;
    job.last.video_url = stored.url;
    job.last.expires_at = stored.expires_at;
  }
  job.from_ledger = by_id || url_valid;
}

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
                     engine.m_config, engine.m_observer, *engine.m_budget, scope,
                     engine.m_commit_sync ? engine.m_commit_sync : engine.m_store.commit_syncer()}),
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
  if (m_core.worker() != nullptr) {
    return {};  // claimed as the run goes (claim_live_jobs)
  }
  const JobState live_states[] = {JobState::submitted, JobState::running, JobState::ready};
  const Millis now = m_core.now();
  const bool by_id = m_core.provider().downloads_by_id();
  return m_core.each_stored(live_states, [&](JobRecord rec) -> Status {
    LiveJob& job = m_core.admit(std::move(rec));
    download_from_ledger(job, by_id, now);
    m_core.schedule(job, now);
    return {};
  });
}

// Worker mode: unleased jobs of the scope that need polls or a download (a stopped worker's,
// a rescued one's, a reconciled one), claimed under this worker's lease: up to the in-flight
// cap to poll and the download slots to download, so that other workers get the rest. While
// the last claim of a kind came back full, the next is tried at every turn, as soon as a job
// leaves: a resumed batch of ready videos downloads at the slots' pace, not a claim's.
void RunEngine::Loop::claim_live_jobs(Millis now) {
  if (now < m_next_claim) {
    return;
  }
  const ClaimRoom room = claim_room();
  const JobState to_poll[] = {JobState::submitted, JobState::running};
  const JobState to_download[] = {JobState::ready};
  const std::tuple<std::span<const JobState>, int, bool*> kinds[] =
      {{to_poll, room.poll, &m_more_to_poll}, {to_download, room.download, &m_more_to_download}};
  bool again = false;
  for (const auto& [states, free, more] : kinds) {
    if (free > 0) {
      const auto claimed = claim(states, free, now);
      if (!claimed) {
        return;
      }
      *more = *claimed == static_cast<std::size_t>(free);
    }
    again = again || *more;
  }
  m_next_claim = again ? now : now + k_claim_interval_ms;
}

// A downloaded video being made durable (fsync, rename) holds no download slot: the next
// transfers overlap its disk work, as curl's would. At most twice max_downloads wait on the
// disk, each holding a file descriptor and no buffer.
RunEngine::Loop::ClaimRoom RunEngine::Loop::claim_room() const {
  const int slots = m_core.config().limits.max_downloads;
  ClaimRoom room{m_core.config().limits.max_in_flight, slots};
  int finishing = 0;
  m_core.each_live([&](const LiveJob& job) {
    const JobState state = job.rec.state;
    room.poll -= state == JobState::submitted || state == JobState::running ? 1 : 0;
    if (job.in_flight == RequestKind::finishing) {
      finishing += 1;
    } else if (state == JobState::ready || state == JobState::downloading) {
      room.download -= 1;
    }
  });
  room.download = std::min(room.download, 2 * slots - finishing);
  return room;
}

// Claims up to `limit` jobs in `states` and schedules them; how many, or nothing on a failure
// (fatal).
std::optional<std::size_t> RunEngine::Loop::claim(std::span<const JobState> states, int limit,
                                                  Millis now) {
  // A claim lost in a power cut only leaves the jobs to be claimed again: no disk wait.
  m_core.flush(Durability::deferred);
  auto claimed = [&] {
    DeferredCommits deferred(m_core.store());
    return m_core.store().claim_jobs(m_core.worker()->id(), m_core.work_scope(), states, limit);
  }();
  if (!claimed) {
    m_core.set_fatal(claimed.error());
    return std::nullopt;
  }
  const bool by_id = m_core.provider().downloads_by_id();
  for (ClaimedJob& c : *claimed) {
    m_core.hold_claim(c.job.row_id, c.lease);
    LiveJob& job = m_core.admit(std::move(c.job));
    download_from_ledger(job, by_id, now);
    m_core.schedule(job, now);
  }
  return claimed->size();
}

void RunEngine::Loop::start_requests(Millis now) {
  if (m_core.worker() != nullptr) {
    claim_live_jobs(now);
  }
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
    } else if ((m_sweep.enabled() || (job->lost && m_sweep.may_list())) && !job->poll_directly &&
               generating(state)) {
      scheduler.waiting(WaitQueue::sweep).push_back(*timer);
    } else {
      scheduler.waiting(WaitQueue::poll).push_back(*timer);
    }
  }
  m_downloads.start_waiting(now);
  m_polls.start_waiting(now);
}

// Worker mode: jobs of the scope's batches (of any provider) not yet terminal nor ambiguous
// (queued ones only while the budget allows creates and a gate does not hold them all back),
// whoever holds them: this worker stays while any is left, to take over the jobs of a worker
// that stops.
bool RunEngine::Loop::ledger_has_work(Millis now) {
  if (now < m_next_ledger_check) {
    return m_ledger_has_work;
  }
  m_next_ledger_check = now + k_ledger_check_ms;
  m_core.flush();
  auto counts = m_core.store().count_states();
  if (!counts) {
    m_core.set_fatal(counts.error());
    return false;
  }
  m_ledger_has_work = false;
  std::int64_t queued = 0;
  for (const auto& c : *counts) {
    if (!m_core.in_scope_batch(c.batch) || c.count == 0) {
      continue;
    }
    queued += c.state == JobState::queued ? c.count : 0;
    m_ledger_has_work =
        m_ledger_has_work ||
        (!is_terminal(c.state) && c.state != JobState::ambiguous && c.state != JobState::queued);
  }
  // Queued jobs are work while creates may go and not all of them wait on a gate.
  m_ledger_has_work =
      m_ledger_has_work ||
      (!m_submitter.budget_reached() && queued > static_cast<std::int64_t>(m_submitter.gated()));
  // Ambiguous jobs keep the leader of the provider's listings until it has reconciled them.
  m_ledger_has_work = m_ledger_has_work || m_reconciliation.lead(now);
  return m_ledger_has_work;
}

bool RunEngine::Loop::finished() {
  if (m_core.in_flight() > 0 || m_downloads.busy()) {
    return false;
  }
  if (m_core.stopping()) {
    return true;
  }
  const bool idle = m_core.no_live_jobs() && m_submitter.done() && !m_reconciliation.pending() &&
                    !m_characters.pending() && !m_thumbnails.pending();
  return idle && (m_core.worker() == nullptr || !ledger_has_work(m_core.now()));
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
  if (m_core.worker() != nullptr && (m_more_to_poll || m_more_to_download)) {
    // The ledger has more to give: claim once a slot is free (a job left this turn).
    const ClaimRoom room = claim_room();
    if ((m_more_to_poll && room.poll > 0) || (m_more_to_download && room.download > 0)) {
      wake = std::min(wake, m_next_claim);
    }
  }
  return std::max(wake, now);
}

Result<RunSummary> RunEngine::Loop::run(const std::atomic<int>& stop_requests) {
  VB_TRY(load_live_jobs());
  VB_TRY(m_reconciliation.load());
  VB_TRY(m_submitter.load_budget());
  while (true) {
    Millis now = m_core.now();
    if (m_core.worker() != nullptr && !m_core.worker()->alive() && !m_core.stopping()) {
      // R5: declared dead (no heartbeat within its time to live), its jobs went to the others.
      m_core.set_fatal(Error{ErrorCode::busy,
                             "this worker was declared dead (its heartbeat stopped for longer "
                             "than its time to live) and its jobs were given to other workers; "
                             "start it again to join the run",
                             m_core.worker()->id()});
    }
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
      m_core.flush();  // every deferred commit durable before the run reports
      break;
    }
    auto results = m_core.transport().poll(next_wake(now) - now);
    now = m_core.now();
    for (auto& result : results) {
      m_core.dispatch(std::move(result), now);
    }
    m_downloads.take_finished(now);
    m_core.take_synced();
    m_submitter.record_stream_progress(now);
    m_core.flush_if_due(now);
    m_core.end_turn();
  }
  m_core.tick(m_core.now(), true);
  if (m_core.worker() != nullptr) {
    // Another worker may list at once; a failure leaves the leadership to run out.
    (void)m_core.store().release_leadership("reconcile:" + m_core.config().provider.name,
                                            m_core.worker()->id());
  }
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
      t.message =
          "the previous run stopped after the create request left and before its "
          "answer was stored; a video may have been started";
      t.update.error_code = failure::create_ambiguous;
      t.update.error_message = t.message;
    } else {
      t.message = "the previous run stopped mid-download; downloading again";
    }
    t.lease = Lease{};  // a job a live worker holds is its owner's (or its rescuer's)
    moves.push_back(std::move(t));
  }
  const auto outcomes = VB_TRY(store.apply_each(moves));
  return static_cast<int>(std::count(outcomes.begin(), outcomes.end(), TransitionOutcome::applied));
}

}  // namespace vb
