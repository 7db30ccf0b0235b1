// Submissions: queued jobs from the ledger, page by page, sent as create requests within the
// jobs-in-flight cap, the create token bucket and the budget, once their parent and their
// characters allow. `submitting` is durable before any create request leaves.
#include <algorithm>
#include <cmath>
#include <tuple>

#include "engine/run_parts.h"
#include "job/failure_codes.h"
#include "plan/pricing.h"

namespace vb {

namespace {

constexpr int k_queue_page = 256;
constexpr Millis k_admission_idle_ms = 250;  // worker mode: admission found nothing, wait
constexpr Millis k_gate_recheck_ms = 1000;   // worker mode: a gated job is admitted again after
// A streamed create's text kept at most (its last lines): hours of progress lines stay small.
constexpr std::size_t k_max_stream_text = 1u << 20;

std::string percent(double progress) {
  return std::to_string(static_cast<int>(progress + 0.5)) + "%";
}

}  // namespace

bool StreamedAnswer::write(const char* data, std::size_t size) {
  m_text.append(data, size);
  const std::size_t end = m_text.rfind('\n');
  if (end != std::string::npos && end + 1 > m_read) {
    if (auto progress =
            m_provider.stream_progress(std::string_view(m_text).substr(m_read, end + 1 - m_read))) {
      m_progress = progress;
    }
    m_read = end + 1;
  }
  if (m_text.size() > k_max_stream_text) {
    const std::size_t drop = m_read > 0 ? m_read : m_text.size() / 2;
    m_text.erase(0, drop);
    m_read -= std::min(m_read, drop);
  }
  return true;
}

std::optional<double> StreamedAnswer::progress_to_record(Millis now) {
  if (m_progress && m_recorded.take(*m_progress, now)) {
    return m_progress;
  }
  return std::nullopt;
}

Submitter::Submitter(RunCore& core, ChainGate& chains, CharacterCreator& characters,
                     StatusPolls& polls, Reconciliation& reconciliation, FailedRequests& failures)
    : m_core(core),
      m_chains(chains),
      m_characters(characters),
      m_polls(polls),
      m_reconciliation(reconciliation),
      m_failures(failures) {}

// Worker mode: as many jobs as this worker may start, admitted by the ledger under the
// provider's shared limits (its GCRA budget and in-flight cap across every worker), within
// the cap this worker learnt from the provider's answers.
void Submitter::admit_from_ledger(Millis now) {
  const std::size_t cap = m_core.scheduler().in_flight_cap();
  const std::size_t held = m_core.at_provider() + m_queue.size();
  if (held >= cap || now < m_next_admission || !m_core.worker()->may_create()) {
    return;
  }
  // The ledger's in-flight count sees this worker's transitions. Neither commit waits for the
  // disk: a create first commits its `submitting` with a disk wait, which makes the admission
  // before it durable too; an admission lost in a power cut took nothing with it.
  m_core.flush(Durability::deferred);
  // limits.budget_usd is admitted by the ledger too, against what every worker has spent.
  std::optional<CreateBudget> budget;
  if (const auto limit = m_core.budget().limit()) {
    budget = CreateBudget{*limit, [&prices = m_core.config().prices](const JobSpec& spec) {
                            return estimate_cost(spec, prices);
                          }};
  }
  auto admitted = [&] {
    DeferredCommits deferred(m_core.store());
    return m_core.store().admit_creates(m_core.worker()->id(), m_core.work_scope(),
                                        static_cast<int>(cap - held), budget ? &*budget : nullptr);
  }();
  if (!admitted) {
    m_core.set_fatal(admitted.error());
    return;
  }
  m_next_admission = admitted->jobs.empty() ? now + k_admission_idle_ms : now;
  m_shared = admitted->learnt;
  m_core.scheduler().adopt_shared(m_shared, now);
  for (ClaimedJob& claimed : admitted->jobs) {
    m_core.hold_claim(claimed.job.row_id, claimed.lease);
    m_queue.push_back(std::move(claimed.job));
  }
  if (admitted->over_budget && m_queue.empty()) {
    // Creates stop in order: the ones admitted before it still go.
    stop_at_budget(*admitted->over_budget, admitted->spent_usd);
  }
}

void Submitter::fill_queue() {
  if (m_core.worker() != nullptr) {
    admit_from_ledger(m_core.now());
    return;
  }
  if (m_exhausted || m_queue.size() >= k_queue_page / 2) {
    return;
  }
  const JobState queued[] = {JobState::queued};
  while (m_queue.size() < k_queue_page && !m_exhausted) {
    m_core.flush();  // the ledger read below sees every transition
    auto page = m_core.store().jobs_in_states(queued, m_cursor, k_queue_page);
    if (!page) {
      m_core.set_fatal(page.error());
      return;
    }
    m_exhausted = page->size() < static_cast<std::size_t>(k_queue_page);
    for (auto& rec : *page) {
      m_cursor = rec.row_id;
      if (m_core.in_scope(rec)) {
        m_queue.push_back(std::move(rec));
      }
    }
  }
}

void Submitter::start(Millis now) {
  std::vector<std::pair<LiveJob*, CreateContext>> batch;
  fill_queue();
  while (!m_queue.empty() && m_core.at_provider() < m_core.scheduler().in_flight_cap() &&
         m_queue.front().not_before <= now) {
    // Out of the queue while the gates look at it: a gate that fails a job may put its
    // released children at the front.
    JobRecord rec = std::move(m_queue.front());
    m_queue.pop_front();
    if (m_core.worker() != nullptr && !m_core.holds_claim(rec.row_id)) {
      continue;  // unclaimed (a released child, a reconciled job): admission brings it back
    }
    if (m_core.worker() != nullptr && !m_core.worker()->may_create()) {
      m_core.give_back_claim(rec.row_id, 0);  // R5, R6: no create from a worker maybe dead
      continue;
    }
    CreateContext context;
    context.job_key = job_key(rec.batch, rec.spec.id);
    Gate verdict = m_chains.check(rec, context);
    if (verdict == Gate::submit) {
      verdict = m_characters.check(rec, context);
    }
    if (verdict == Gate::skipped) {
      // A job a gate keeps waiting gives its claim (an in-flight slot) back meanwhile, and
      // admission leaves it for a while: taken back at once, it would be claimed and given
      // back in a loop of write transactions, ahead of the jobs that could go.
      if (m_core.worker() != nullptr) {
        m_gated.insert(rec.row_id);
        m_core.give_back_claim(rec.row_id, k_gate_recheck_ms);
      }
      fill_queue();
      continue;
    }
    if (verdict == Gate::stop || !m_core.connection_free(batch.size()) ||
        !m_core.scheduler().take_submit_token(now) || !within_budget(rec)) {
      m_queue.push_front(std::move(rec));
      break;
    }
    m_gated.erase(rec.row_id);
    LiveJob& job = m_core.admit(std::move(rec));
    job.sent_at = now;
    if (auto failed = m_retry_streaks.find(job.rec.row_id); failed != m_retry_streaks.end()) {
      job.streak(RequestPhase::submit) = failed->second;  // retries keep counting
      m_retry_streaks.erase(failed);
    }
    JobUpdate update;
    update.increment_attempt = true;
    m_core.transition(job, JobState::submitting,
                      "create request sent (attempt " + std::to_string(job.rec.attempt + 1) + ")",
                      update);
    batch.emplace_back(&job, std::move(context));
    fill_queue();
  }
  if (batch.empty()) {
    return;
  }
  m_core.flush();  // `submitting` is durable before any create request leaves
  if (m_core.fatal()) {
    return;
  }
  for (auto& [job, context] : batch) {
    if (job->forgotten) {
      continue;  // R1: its `submitting` lost the lease: no create
    }
    if (m_core.worker() != nullptr && !m_core.worker()->may_create()) {
      // R6 again at the last moment: a process stalled since its `submitting` may have been
      // rescued meanwhile; nothing was sent, so the job goes back (if still held).
      m_core.transition(*job, JobState::queued, "create not sent: this worker's heartbeat is late");
      m_core.forget(*job);
      continue;
    }
    auto request = m_core.provider().create_request(job->rec.spec, context);
    if (!request) {
      m_core.fail_job(*job, failure::invalid_request, request.error().describe());
      continue;
    }
    if (const WorkerSeat* worker = m_core.worker(); worker != nullptr) {
      request->may_leave = [worker] { return worker->may_create(); };  // R6 on the wire
    }
    job->in_flight = RequestKind::submit;
    Traffic traffic = Traffic::paid;
    if (m_core.provider().streams_create()) {
      auto& stream = m_streams[job->rec.row_id];
      stream = std::make_unique<StreamedAnswer>(m_core.provider());
      request->sink = stream.get();
      traffic = Traffic::paid_stream;
    }
    m_core.send(std::move(*request), traffic, *this, job->rec.row_id, now);
  }
}

void Submitter::retry_due(LiveJob& job) {
  m_retry_streaks[job.rec.row_id] = job.streak(RequestPhase::submit);
  // Worker mode: the job went back to the pool with its `queued`; admission brings it back.
  if (m_core.worker() == nullptr) {
    m_queue.push_front(job.rec);
  }
  m_core.forget(job);
}

bool Submitter::done() const {
  if (m_core.worker() != nullptr) {
    return m_queue.empty() || m_budget_reached;
  }
  return (m_queue.empty() && m_exhausted) || m_budget_reached;
}

Millis Submitter::next_wake(Millis now, Millis wake) const {
  if (!m_queue.empty() && m_core.at_provider() < m_core.scheduler().in_flight_cap()) {
    wake = std::min(wake, std::max(m_queue.front().not_before,
                                   m_core.scheduler().next_submit_token(now)));
  }
  return wake;
}

// A streamed create's answer: its text becomes the response body (an error answer's body is
// there already), and the progress it reported is returned.
std::optional<double> Submitter::end_stream(std::int64_t row_id, HttpResult& result) {
  auto it = m_streams.find(row_id);
  if (it == m_streams.end()) {
    return std::nullopt;
  }
  std::optional<double> progress = it->second->progress();
  if (result.response.body.empty()) {
    result.response.body = it->second->take_text();
  }
  m_streams.erase(it);
  return progress;
}

// A stream stays open for as long as its video takes (minutes): its progress is written while
// it is open, so `status` and `jobs` show how far the video got. Worker mode: under the job's
// lease; a lost lease writes nothing (the create's answer, when it comes, is still recorded).
void Submitter::record_stream_progress(Millis now) {
  for (auto& [row_id, stream] : m_streams) {
    LiveJob* job = m_core.find(row_id);
    if (job == nullptr || job->rec.state != JobState::submitting) {
      continue;
    }
    const std::optional<double> progress = stream->progress_to_record(now);
    if (!progress) {
      continue;
    }
    std::optional<Lease> lease;
    if (m_core.worker() != nullptr) {
      lease = job->lease.value_or(Lease{});
    }
    auto written =
        m_core.store().note_progress(row_id, JobState::submitting, *progress, now, lease);
    if (!written) {
      m_core.set_fatal(written.error());
      return;
    }
    if (*written) {
      job->rec.progress = progress;
    }
  }
}

void Submitter::on_answer(std::int64_t row_id, HttpResult& result, Millis now) {
  const std::optional<double> streamed = end_stream(row_id, result);
  LiveJob* found = m_core.answered(row_id);
  if (found == nullptr) {
    return;
  }
  LiveJob& job = *found;
  if (sent_twice(job, result, now)) {
    return;
  }
  // How far the provider said the video had got before its stream ended.
  const std::string made =
      streamed ? "; the stream had reported " + percent(*streamed) + " before it ended" : "";
  AnswerClass answer = m_core.provider().classify(RequestPhase::submit, result, now);
  learn_limits(result.response, answer, job.sent_at, now);
  if (answer.kind != AnswerKind::ok) {
    answer.detail += answer.kind == AnswerKind::ambiguous ? made : "";
    m_failures.on_failed(job, RequestPhase::submit, answer, result.response.status, now);
    return;
  }
  auto created = m_core.provider().parse_create(result.response);
  if (!created) {
    // An accepted create we cannot read may still have started a video.
    m_reconciliation.hold(job, failure::create_ambiguous,
                          "the create answer could not be read (" + created.error().message +
                              "); a video may have been started" + made,
                          result.response.status, now);
    return;
  }
  JobUpdate update;
  update.progress = streamed;
  update.remote_id = created->remote_id;
  update.submitted_at = now;
  update.error_code = "";
  update.error_message = "";
  if (!m_core.record_create_answer(job, JobState::submitted, "accepted as " + created->remote_id,
                                   update, result.response.status)) {
    return;  // recorded, but the job is no longer this worker's
  }
  job.streak(RequestPhase::submit) = {};
  m_polls.apply(job, created->status, result.response.status, now);
  if (!job.forgotten &&
      (job.rec.state == JobState::submitted || job.rec.state == JobState::running)) {
    m_core.schedule(job, now + job.poll_interval);
  }
}

void Submitter::learn_limits(const HttpResponse& response, const AnswerClass& answer,
                             Millis sent_at, Millis now) {
  Scheduler& scheduler = m_core.scheduler();
  const LearntLimits before = scheduler.learnt();
  const bool halved = scheduler.create_answered(response, answer.kind, sent_at, now);
  if (m_core.worker() != nullptr) {
    share_limits(before, scheduler.learnt());
  }
  if (!halved) {
    return;
  }
  const auto& limits = m_core.config().limits;
  std::string rate =
      limits.submits_per_minute == k_rate_auto
          ? std::to_string(static_cast<int>(scheduler.submits_per_minute())) + " creates a minute"
          : "the pinned limits.submits_per_minute";
  m_core.notice(NoticeKind::limit_learnt, m_core.config().provider.name,
                "the provider refused a create for pacing (" + answer.detail + "): now at most " +
                    std::to_string(scheduler.in_flight_cap()) + " of limits.max_in_flight " +
                    std::to_string(limits.max_in_flight) + " jobs at the provider and " + rate +
                    ", growing back slowly");
}

// A lower value lowers the shared one (never raising it); growth past a whole number is a
// compare-and-set from the shared value last seen, so that it never undoes another worker's
// halving (a lost one waits for the next admission's reading). Growth is only shared once a
// halving set a shared value: until then the configured limits alone bound admission.
void Submitter::share_limits(const LearntLimits& before, const LearntLimits& after) {
  const std::string provider = m_core.work_scope().provider;
  const std::tuple<LearntLimit, std::optional<double>, std::optional<double>,
                   std::optional<double>*>
      limits[] = {{LearntLimit::in_flight, before.in_flight, after.in_flight, &m_shared.in_flight},
                  {LearntLimit::per_minute, before.per_minute, after.per_minute,
                   &m_shared.per_minute}};
  for (const auto& [limit, was, value, shared] : limits) {
    if (!was || !value || *value == *was) {
      continue;
    }
    if (*value < *was) {
      if (auto lowered = m_core.store().lower_learnt_limit(provider, limit, *value); !lowered) {
        m_core.set_fatal(lowered.error());
        return;
      }
      *shared = std::min(shared->value_or(*value), *value);
    } else if (*shared && std::floor(*value) > std::floor(**shared)) {
      auto raised = m_core.store().raise_learnt_limit(provider, limit, **shared, *value);
      if (!raised) {
        m_core.set_fatal(raised.error());
        return;
      }
      if (*raised) {
        *shared = *value;
      }
    }
  }
}

// The guard that does not trust the transport's defence: a paid request whose request line
// went on the wire twice may have been executed twice. Whatever its answer says, the job is
// ambiguous: reconciliation finds the video(s) it made, and never sends it again.
bool Submitter::sent_twice(LiveJob& job, const HttpResult& result, Millis now) {
  if (result.request_sends <= 1) {
    return false;
  }
  m_core.count_resent();
  const std::string message =
      "the create request went on the wire " + std::to_string(result.request_sends) +
      " times (a layer below vidbatch resent it); the provider may have made and billed more "
      "than one video, so the job is held for reconciliation and never sent again";
  m_core.notice(NoticeKind::request_resent, job.rec.batch + "/" + job.rec.spec.id,
                "WARNING: job " + job.rec.spec.id + ": " + message);
  m_reconciliation.hold(job, failure::create_resent, message, result.response.status, now);
  return true;
}

Status Submitter::load_budget() {
  SharedBudget& budget = m_core.budget();
  if (!budget.limit() || m_core.worker() != nullptr) {
    return {};  // a worker's budget is counted by the ledger at each admission
  }
  // What the ledger has already sent to this provider counts against the budget.
  auto jobs = VB_TRY(m_core.store().list_jobs({}));
  double spent = 0;
  for (const auto& job : jobs) {
    bool sent = job.submitted_at != 0 || job.state == JobState::submitting ||
                job.state == JobState::ambiguous;
    if (sent && m_core.for_this_provider(job)) {
      spent += estimate_cost(job.spec, m_core.config().prices).value_or(0.0);
    }
  }
  budget.add_spent(spent);
  return {};
}

bool Submitter::within_budget(const JobRecord& rec) {
  SharedBudget& shared = m_core.budget();
  if (!shared.limit() || m_budget_reached || m_core.worker() != nullptr) {
    return !m_budget_reached;  // a worker's jobs were admitted within the budget by the ledger
  }
  auto cost = estimate_cost(rec.spec, m_core.config().prices);
  if (cost && shared.try_spend(*cost)) {
    return true;
  }
  stop_at_budget(rec, shared.spent());
  return false;
}

void Submitter::stop_at_budget(const JobRecord& rec, double spent_usd) {
  SharedBudget& shared = m_core.budget();
  const auto cost = estimate_cost(rec.spec, m_core.config().prices);
  m_budget_reached = true;
  shared.mark_reached();
  m_core.notice(NoticeKind::budget_reached, rec.batch + "/" + rec.spec.id,
                !cost ? "budget: no price for " + rec.spec.model + " " + priced_size(rec.spec) +
                            " in [prices]; submissions stopped (add a price or remove the budget)"
                      : "budget: submitting " + rec.batch + "/" + rec.spec.id + " (" +
                            format_usd(cost) + ") would pass limits.budget_usd (" +
                            format_usd(shared.limit()) + ", " + format_usd(spent_usd) +
                            " already sent); the rest stays queued");
}

}  // namespace vb
