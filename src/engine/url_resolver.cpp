// UrlResolver: the requests between "completed" and the bytes (MiniMax's files/retrieve).
#include "engine/run_parts.h"
#include "job/failure_codes.h"

namespace vb {

UrlResolver::UrlResolver(RunCore& core, FailedRequests& failures)
    : m_core(core), m_failures(failures) {}

bool UrlResolver::start(LiveJob& job, Millis now) {
  auto request = m_core.provider().resolve_request(job.last);
  if (!request) {
    return false;
  }
  job.in_flight = RequestKind::resolve;
  m_core.send(std::move(*request), Traffic::status, *this, job.rec.row_id, now);
  return true;
}

void UrlResolver::on_answer(std::int64_t row_id, HttpResult& result, Millis now) {
  LiveJob* found = m_core.answered(row_id);
  if (found == nullptr) {
    return;
  }
  LiveJob& job = *found;
  AnswerClass answer = m_core.provider().classify(RequestPhase::poll, result, now);
  if (answer.kind != AnswerKind::ok) {
    m_failures.on_failed(job, RequestPhase::poll, answer, result.response.status, now);
    return;
  }
  auto resolved = m_core.provider().parse_resolve(result.response, job.last);
  if (!resolved) {
    AnswerClass unreadable{AnswerKind::retry, {}, failure::unreadable_answer,
                           resolved.error().message};
    m_failures.on_failed(job, RequestPhase::poll, unreadable, result.response.status, now);
    return;
  }
  job.last = std::move(*resolved);
  job.streak(RequestPhase::poll) = {};
  m_core.schedule(job, now);  // to the Downloader, with the URL
}

}  // namespace vb
