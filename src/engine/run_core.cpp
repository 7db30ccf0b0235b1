// RunCore and Scheduler: what the request families of a run share.
#include "engine/run_core.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "http/response_headers.h"

namespace vb {

namespace {

// Transitions are committed together at most this long after the first of them (group commit:
// jobs that move together share the pages they dirty). Exceptions commit at once: `submitting`
// before any create leaves, a remote id as soon as it is known, and before the ledger is read.
constexpr Millis k_commit_interval_ms = 50;
constexpr std::size_t k_commit_max_pending = 1024;
constexpr Millis k_tick_interval_ms = 250;

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

// limits.submits_per_minute = "auto" where the dialect documents no rate: start at this
// ceiling and learn down (the in-flight cap bounds the first burst). A provider's own headers
// lower the ceiling to its real limit at once.
constexpr double k_auto_ceiling_per_minute = 600;
constexpr double k_min_per_minute = 1;

LearnedLimit submit_rate(const LimitsConfig& limits, const DocumentedLimits& documented) {
  if (limits.submits_per_minute != k_rate_auto) {
    const double pinned = limits.submits_per_minute;
    return LearnedLimit(pinned, pinned, pinned, 1);
  }
  const double ceiling = documented.submits_per_minute.value_or(k_auto_ceiling_per_minute);
  // Back from half the ceiling to all of it in about 16 rounds (minutes at that rate).
  return LearnedLimit(ceiling, k_min_per_minute, ceiling, ceiling / 32);
}

// The documented concurrency is where learning starts; limits.max_in_flight is the cap. Half a
// job per round: against a provider that takes 5 at once (bench/limits.sh, 100 jobs) 7 refusals
// instead of 10 with a whole job, for 74% of its slots used instead of 77%.
LearnedLimit in_flight_limit(const LimitsConfig& limits, const DocumentedLimits& documented) {
  const double cap = limits.max_in_flight;
  return LearnedLimit(std::min<double>(cap, documented.max_in_flight.value_or(cap)), 1, cap, 0.5);
}

bool counts_at_provider(JobState s) {
  return s == JobState::submitting || s == JobState::submitted || s == JobState::running;
}

}  // namespace

Scheduler::Scheduler(const LimitsConfig& limits, const DocumentedLimits& documented)
    : m_in_flight(in_flight_limit(limits, documented)),
      m_submit_rate(submit_rate(limits, documented)),
      m_rate_learnt(limits.submits_per_minute == k_rate_auto),
      m_submit_limiter(m_submit_rate.value() / 60.0, burst_for(m_submit_rate.value() / 60.0)),
      m_poll_limiter(limits.polls_per_second, burst_for(limits.polls_per_second),
                     poll_window(limits.polls_per_second)),
      m_poll_concurrency(limits.polls_per_second, k_connections_per_origin) {}

void Scheduler::schedule(LiveJob& job, Millis at) {
  job.due = at;
  job.timer_seq += 1;
  m_timers.push(Timer{at, job.rec.row_id, job.timer_seq});
}

std::optional<Timer> Scheduler::pop_due(Millis now) {
  if (m_timers.empty() || m_timers.top().at > now) {
    return std::nullopt;
  }
  Timer timer = m_timers.top();
  m_timers.pop();
  return timer;
}

std::optional<Millis> Scheduler::next_timer() const {
  return m_timers.empty() ? std::nullopt : std::optional<Millis>(m_timers.top().at);
}

bool Scheduler::take_submit_token(Millis now) {
  if (!m_submit_limiter.try_take(now)) {
    return false;
  }
  m_recent_creates.push_back(now);
  return true;
}

std::size_t Scheduler::in_flight_cap() const {
  return static_cast<std::size_t>(std::floor(m_in_flight.value()));
}

LearntLimits Scheduler::learnt() const {
  LearntLimits learnt;
  learnt.in_flight = static_cast<double>(in_flight_cap());
  if (m_rate_learnt) {
    learnt.per_minute = m_submit_rate.value();
  }
  return learnt;
}

void Scheduler::adopt_shared(const LearntLimits& shared, Millis now) {
  if (shared.in_flight) {
    m_in_flight.adopt(*shared.in_flight, now);
  }
  if (m_rate_learnt && shared.per_minute && *shared.per_minute < m_submit_rate.value()) {
    m_submit_rate.adopt(*shared.per_minute, now);
    const double per_second = m_submit_rate.value() / 60.0;
    m_submit_limiter.set_rate(per_second, burst_for(per_second), now);
  }
}

bool Scheduler::create_answered(const HttpResponse& response, AnswerKind kind, Millis sent_at,
                                Millis now) {
  const double rate_before = m_submit_rate.value();
  const RequestBudget budget = parse_request_budget(response);
  if (m_rate_learnt && budget.limit && *budget.limit >= k_min_per_minute) {
    m_submit_rate.tell_ceiling(*budget.limit);
  }
  if (budget.remaining && *budget.remaining < 1 && budget.reset_ms) {
    m_submit_limiter.cool_down_until(now + *budget.reset_ms);
  }
  bool halved = false;
  if (kind == AnswerKind::slow_down) {
    // Where the answer counts the requests left, it tells which limit refused: none left is the
    // rate, some left is the concurrency. Otherwise the concurrency's, and the rate's too where
    // creates went out near it (half of it in the last minute): a rate far from reached
    // refuses nothing.
    while (!m_recent_creates.empty() && m_recent_creates.front() <= now - 60000) {
      m_recent_creates.pop_front();
    }
    const bool near_rate = static_cast<double>(m_recent_creates.size()) >=
                           m_submit_rate.value() / 2;
    const bool rate = budget.remaining ? *budget.remaining < 1 : near_rate;
    const bool concurrency = !budget.remaining || *budget.remaining >= 1;
    halved = concurrency && m_in_flight.refused(sent_at, now);
    halved = (rate && m_submit_rate.refused(sent_at, now)) || halved;
  } else if (kind == AnswerKind::ok) {
    m_in_flight.accepted();
    m_submit_rate.accepted();
  }
  if (m_submit_rate.value() != rate_before) {
    const double per_second = m_submit_rate.value() / 60.0;
    m_submit_limiter.set_rate(per_second, burst_for(per_second), now);
  }
  return halved;
}

void Scheduler::slow_down(RequestPhase phase, Millis until) {
  (phase == RequestPhase::submit ? m_submit_limiter : m_poll_limiter).cool_down_until(until);
}

RunCore::RunCore(const RunDeps& deps)
    : m_deps(deps), m_scheduler(deps.config.limits, dialect_entry(deps.provider.dialect()).limits) {
  if (m_deps.commit_sync) {
    m_syncer = std::make_unique<CommitSyncer>(m_deps.commit_sync, [&transport = deps.transport] {
      transport.wakeup();
    });
  }
}

std::uint64_t RunCore::send(HttpRequest request, Traffic traffic, RequestOwner& owner,
                            std::int64_t key, Millis now) {
  const HttpConfig& http = config().http;
  request.timeout_ms = traffic == Traffic::download ? http.download_timeout_ms
                                                    : http.request_timeout_ms;
  if (traffic == Traffic::download) {
    request.low_speed_time_ms = http.low_speed_time_ms;
  }
  if (traffic == Traffic::paid_stream) {
    request.timeout_ms = config().limits.job_timeout_ms;
  }
  request.paid = traffic == Traffic::paid || traffic == Traffic::paid_stream;
  const bool status = traffic == Traffic::status;
  m_status_in_flight += status ? 1 : 0;
  const std::uint64_t tag = m_next_tag++;
  m_sent.emplace(tag, Sent{&owner, key, status, now});
  m_deps.transport.start(std::move(request), tag);
  return tag;
}

// By tag, not by job: a status answer counts for the concurrency limit even when its job has
// left the loop meanwhile.
void RunCore::dispatch(HttpResult result, Millis now) {
  auto it = m_sent.find(result.tag);
  if (it == m_sent.end()) {
    return;
  }
  Sent sent = it->second;
  m_sent.erase(it);
  if (auto orphan = m_orphaned_files.find(result.tag); orphan != m_orphaned_files.end()) {
    orphan->second->discard();
    m_orphaned_files.erase(orphan);
  }
  if (sent.status) {
    m_status_in_flight -= 1;
    m_scheduler.status_answered(now - sent.at);
  }
  sent.owner->on_answer(sent.key, result, now);
}

bool RunCore::connection_free(std::size_t reserved) const {
  return m_deps.transport.in_flight() + reserved < k_connections_per_origin;
}

// The token is taken only when the request can go on the wire at once: one left waiting inside
// the transport for a connection would reach the provider late, bunched with others, and break
// the rate the token bucket promised.
bool RunCore::status_may_start(Millis now) {
  return connection_free() && m_scheduler.status_slot_free(m_status_in_flight) &&
         m_scheduler.take_status_token(now);
}

LiveJob* RunCore::find(std::int64_t row_id) {
  auto it = m_live.find(row_id);
  return it == m_live.end() || it->second.forgotten ? nullptr : &it->second;
}

LiveJob* RunCore::answered(std::int64_t row_id) {
  LiveJob* job = find(row_id);
  if (job != nullptr) {
    job->in_flight = RequestKind::none;
  }
  return job;
}

Status RunCore::each_stored(std::span<const JobState> states,
                            const std::function<Status(JobRecord)>& visit) {
  constexpr int k_page = 1000;
  std::int64_t cursor = 0;
  while (true) {
    auto page = VB_TRY(store().jobs_in_states(states, cursor, k_page));
    for (auto& rec : page) {
      cursor = rec.row_id;
      if (!in_scope(rec)) {
        continue;
      }
      if (auto status = visit(std::move(rec)); !status) {
        return status;
      }
    }
    if (page.size() < static_cast<std::size_t>(k_page)) {
      return {};
    }
  }
}

// A job's download file goes with the job, unless a transfer still writes into it: the
// transport holds a pointer to it until that request ends (dispatch discards it then).
void RunCore::release_file(LiveJob& job) {
  if (!job.file) {
    return;
  }
  if (job.in_flight == RequestKind::download && m_sent.contains(job.download_tag)) {
    m_orphaned_files.emplace(job.download_tag, std::move(job.file));
    return;
  }
  job.file->discard();
  job.file.reset();
}

LiveJob& RunCore::admit(JobRecord rec) {
  auto [it, added] = m_live.try_emplace(rec.row_id);
  LiveJob& job = it->second;
  if (job.forgotten) {
    release_file(job);
    job = LiveJob{};  // forgotten earlier in this turn, back again: a fresh start
    added = true;
  }
  m_at_provider += added && counts_at_provider(rec.state) ? 1 : 0;
  if (auto claim = m_claims.find(rec.row_id); claim != m_claims.end()) {
    job.lease = claim->second;
    m_claims.erase(claim);
  }
  job.rec = std::move(rec);
  job.poll_interval = config().limits.poll_interval_ms;
  return job;
}

bool RunCore::give_back_claim(std::int64_t row_id, Millis defer_ms) {
  auto claim = m_claims.find(row_id);
  if (claim == m_claims.end()) {
    return true;
  }
  const LeasedJob held{row_id, claim->second};
  m_claims.erase(claim);
  if (auto released = m_deps.store.release_leases({&held, 1}, defer_ms); !released) {
    set_fatal(released.error());
    return false;
  }
  return true;
}

LiveJob* RunCore::due_job(const Timer& timer) {
  LiveJob* job = find(timer.row_id);
  if (job == nullptr || job->timer_seq != timer.seq || job->in_flight != RequestKind::none) {
    return nullptr;
  }
  return job;
}

void RunCore::forget(LiveJob& job) {
  release_file(job);
  if (!job.forgotten) {
    job.forgotten = true;
    // A job can leave while at the provider (worker mode: its lease was lost).
    m_at_provider -= counts_at_provider(job.rec.state) ? 1 : 0;
    m_forgotten.push_back(job.rec.row_id);
  }
}

void RunCore::end_turn() {
  for (std::int64_t row_id : m_forgotten) {
    auto it = m_live.find(row_id);
    if (it != m_live.end() && it->second.forgotten) {
      m_live.erase(it);
    }
  }
  m_forgotten.clear();
}

bool RunCore::for_this_provider(const JobRecord& rec) const {
  const std::string& named = rec.spec.provider.empty() ? config().default_provider
                                                       : rec.spec.provider;
  return named == config().provider.name;
}

bool RunCore::in_scope(const JobRecord& rec) const {
  const auto& batch = m_deps.scope.batch;
  return (!batch || rec.batch == *batch) && for_this_provider(rec);
}

WorkScope RunCore::work_scope() const {
  const std::string& name = config().provider.name;
  return WorkScope{name, name == config().default_provider, m_deps.scope.batch};
}

// The transition, mirrored in memory at once. Worker mode: under the job's lease (or, for an
// unleased job, only while nobody holds it); back to `queued`, the job goes back to the pool.
Transition RunCore::mirror(LiveJob& job, JobState to, const std::string& message, JobUpdate update,
                           int http_status) {
  JobState from = job.rec.state;
  update.add_polls += job.unsaved_polls;
  update.add_retries += job.unsaved_retries;
  job.unsaved_polls = 0;
  job.unsaved_retries = 0;
  Transition t{job.rec.row_id, from, to, now(), http_status, message, update};
  if (worker() != nullptr) {
    t.lease = job.lease.value_or(Lease{});
    t.release_lease = to == JobState::queued;
  }
  job.rec.state = to;
  apply_update(job.rec, update);
  m_at_provider += counts_at_provider(to) ? 1 : 0;
  m_at_provider -= counts_at_provider(from) ? 1 : 0;
  m_counts.by_state[static_cast<std::size_t>(from)] -= 1;
  m_counts.by_state[static_cast<std::size_t>(to)] += 1;
  return t;
}

void RunCore::transition(LiveJob& job, JobState to, const std::string& message, JobUpdate update,
                         int http_status) {
  Transition t = mirror(job, to, message, std::move(update), http_status);
  m_flush_now = m_flush_now || t.update.remote_id.has_value();
  m_pending_notes.emplace_back(job.rec, t);
  m_pending.push_back(std::move(t));
  if (is_terminal(to) && m_on_terminal) {
    m_on_terminal(job.rec);
  }
}

bool RunCore::record_create_answer(LiveJob& job, JobState to, const std::string& message,
                                   JobUpdate update, int http_status) {
  if (worker() == nullptr || !job.lease) {
    transition(job, to, message, std::move(update), http_status);
    return true;
  }
  // The transitions before it committed first; the answer's own commit waits for the disk
  // (and so makes them durable too, though they are told as the syncer gets there).
  flush(Durability::deferred);
  const Transition t = mirror(job, to, message, std::move(update), http_status);
  auto recorded = m_deps.store.record_create_answer(t, config().provider.name);
  if (!recorded) {
    set_fatal(recorded.error());
    forget(job);
    return false;
  }
  if (*recorded != RecordedAnswer::applied) {
    forget(job);  // recorded without this lease: the job is another worker's now
    return false;
  }
  if (m_unsynced.empty()) {
    tell({Note{job.rec, t}});
  } else {
    m_unsynced.emplace_back(m_deferred_ticket, Note{job.rec, t});  // told in the ledger's order
  }
  return true;
}

void RunCore::fail_job(LiveJob& job, const std::string& code, const std::string& message,
                       int http_status) {
  JobUpdate update;
  update.error_code = code;
  update.error_message = message;
  transition(job, JobState::failed, message, update, http_status);
  forget(job);
}

void RunCore::flush_if_due(Millis now) {
  if (m_pending.empty()) {
    m_last_flush = now;  // the interval counts from the first transition waiting
  } else if (m_flush_now || now - m_last_flush >= k_commit_interval_ms ||
             m_pending.size() >= k_commit_max_pending) {
    // A remote id is durable at once: lost in a power cut, it would leave its job ambiguous.
    flush(m_flush_now ? Durability::now : Durability::deferred);
    m_last_flush = now;
  }
}

std::optional<Millis> RunCore::flush_due() const {
  return m_pending.empty() ? std::nullopt
                           : std::optional<Millis>(m_last_flush + k_commit_interval_ms);
}

// The observer hears of a transition only once it is durable: a failed commit or sync stops
// the run, and what it held never happened. A flush that waits for the disk returns once every
// commit before it is durable too: a deferred flush may have committed a `submitting` (an
// admission reads the ledger between a create's `submitting` and its send). A commit that
// waits syncs the log whole, so it covers the deferred ones before it.
void RunCore::flush(Durability durability) {
  m_flush_now = false;
  const bool defer = durability == Durability::deferred && m_syncer;
  if (m_pending.empty()) {
    if (!defer) {
      sync_deferred();
    }
    return;
  }
  std::optional<std::vector<Note>> heard = commit_pending(defer);
  if (!heard) {
    return;
  }
  if (defer) {
    m_deferred_ticket = m_syncer->request();
    for (auto& note : *heard) {
      m_unsynced.emplace_back(m_deferred_ticket, std::move(note));
    }
    return;
  }
  if (heard->empty()) {
    sync_deferred();  // every transition was lost: nothing written, so nothing synced either
    return;
  }
  tell_synced(m_deferred_ticket);
  tell(*heard);
}

// The pending transitions in one commit; the notes of those applied, nothing on a failure.
std::optional<std::vector<RunCore::Note>> RunCore::commit_pending(bool defer) {
  std::optional<DeferredCommits> deferred;
  if (defer) {
    deferred.emplace(m_deps.store);
  }
  std::optional<std::vector<Note>> heard;
  if (worker() == nullptr) {
    if (auto status = m_deps.store.apply(m_pending); !status) {
      set_fatal(status.error());
    } else {
      heard = std::move(m_pending_notes);
    }
  } else if (auto outcomes = m_deps.store.apply_each(m_pending); !outcomes) {
    set_fatal(outcomes.error());
  } else {
    heard.emplace();
    for (std::size_t i = 0; i < outcomes->size(); ++i) {
      if ((*outcomes)[i] == TransitionOutcome::applied) {
        heard->push_back(std::move(m_pending_notes[i]));
      } else if (LiveJob* lost = find(m_pending_notes[i].second.row_id); lost != nullptr) {
        forget(*lost);  // rescued or taken by another worker meanwhile
      }
    }
  }
  m_pending.clear();
  m_pending_notes.clear();
  return heard;
}

void RunCore::tell(const std::vector<Note>& notes) {
  for (const auto& [rec, t] : notes) {
    m_deps.observer.on_transition(rec, t.from, t.to, t.message, t.http_status);
  }
}

// Tells the observer of the deferred commits up to `ticket`, now durable.
void RunCore::tell_synced(std::uint64_t ticket) {
  std::vector<Note> durable;
  while (!m_unsynced.empty() && m_unsynced.front().first <= ticket) {
    durable.push_back(std::move(m_unsynced.front().second));
    m_unsynced.pop_front();
  }
  tell(durable);
  m_durable_ticket = std::max(m_durable_ticket, ticket);
}

void RunCore::take_synced() {
  if (m_unsynced.empty()) {
    return;
  }
  if (auto synced = m_syncer->synced(); !synced) {
    set_fatal(synced.error());
  } else {
    tell_synced(*synced);
  }
}

// Every deferred commit durable: at once when the syncer or a commit that waited got there,
// else by a sync on this thread.
void RunCore::sync_deferred() {
  if (!m_syncer || m_durable_ticket >= m_deferred_ticket) {
    return;
  }
  auto synced = m_syncer->synced();
  if (!synced || *synced < m_deferred_ticket) {
    if (auto status = m_syncer->sync_now(); !status) {
      set_fatal(status.error());
      return;
    }
  }
  tell_synced(m_deferred_ticket);
}

void RunCore::notice(NoticeKind kind, std::string subject, std::string text) {
  m_deps.observer.on_notice(Notice{kind, std::move(subject), std::move(text)});
}

void RunCore::set_fatal(Error error) {
  if (!m_fatal) {
    notice(NoticeKind::stopping, "", error.describe());
    m_fatal = std::move(error);
  }
  m_stopping = true;
}

void RunCore::tick(Millis now, bool force) {
  if (force || now - m_last_tick >= k_tick_interval_ms) {
    m_last_tick = now;
    m_deps.observer.on_tick(m_counts, now);
  }
}

}  // namespace vb
