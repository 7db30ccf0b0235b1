// What a job's failed request (create, status query, download) means for the job: the
// provider's classification, then the retry policy's verdict.
#include <algorithm>

#include "engine/run_parts.h"
#include "job/failure_codes.h"

namespace vb {

FailedRequests::FailedRequests(RunCore& core, Downloader& downloads, Reconciliation& reconciliation)
    : m_core(core), m_downloads(downloads), m_reconciliation(reconciliation) {}

void FailedRequests::on_failed(LiveJob& job, RequestPhase phase, const AnswerClass& answer,
                               int http_status, Millis now) {
  const bool expired = answer.kind == AnswerKind::expired;
  if (expired && job.from_ledger) {
    // Fetched as the ledger left it, no status asked this run: not a failed attempt, only a sign
    // that the stored completion needs its own answer now.
    m_downloads.return_for_status(job, "download by id refused (" + answer.detail +
                                           "); asking for its status");
    m_core.schedule(job, now);
    return;
  }
  FailureStreak& streak = job.streak(phase);
  if (answer.kind != AnswerKind::slow_down) {
    streak.count(now);
  }
  RetryDecision d =
      decide_retry(m_core.config().retry, phase, streak, answer, now, m_core.jitter());
  if (answer.kind == AnswerKind::slow_down) {
    // The provider's pacing is everyone's: slow the whole queue down, fail nobody.
    m_core.scheduler().slow_down(phase, now + std::max<Millis>(d.delay_ms, 1000));
  }
  switch (d.verdict) {
    case Verdict::stop_run:
      if (phase == RequestPhase::submit) {
        m_core.transition(job, JobState::queued, d.reason, {}, http_status);
      }
      m_core.forget(job);
      m_core.set_fatal(Error{ErrorCode::auth, d.reason, ""});
      return;
    case Verdict::ambiguous:
      m_reconciliation.hold(job, d.error_code, d.reason, http_status, now);
      return;
    case Verdict::give_up:
      m_core.fail_job(job, d.error_code, d.reason, http_status);
      return;
    case Verdict::retry:
      break;
  }
  job.unsaved_retries += 1;
  if (phase == RequestPhase::submit) {
    JobUpdate update;
    update.not_before = now + d.delay_ms;
    update.error_code = d.error_code;
    update.error_message = d.reason;
    m_core.transition(job, JobState::queued, "create not accepted (" + d.reason + "); retrying",
                      update, http_status);
  } else if (expired) {
    m_downloads.return_for_status(job, "download refused (" + answer.detail +
                                           "); fetching a fresh status");
  }
  m_core.schedule(job, now + d.delay_ms);
}

std::optional<RemoteStatus> FailedRequests::read_poll_answer(
    LiveJob& job, const HttpResult& result, Millis now,
    const std::function<Result<RemoteStatus>(const HttpResponse&)>& parse) {
  const AnswerClass answer = m_core.provider().classify(RequestPhase::poll, result, now);
  if (answer.kind != AnswerKind::ok) {
    on_failed(job, RequestPhase::poll, answer, result.response.status, now);
    return std::nullopt;
  }
  auto status = parse(result.response);
  if (!status) {
    const AnswerClass unreadable{AnswerKind::retry,
                                 {},
                                 failure::unreadable_answer,
                                 status.error().message};
    on_failed(job, RequestPhase::poll, unreadable, result.response.status, now);
    return std::nullopt;
  }
  return std::move(*status);
}

}  // namespace vb
