// UrlResolver: the requests between "completed" and the bytes (MiniMax's files/retrieve).
#include "engine/run_parts.h"

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
  auto resolved = m_failures.read_poll_answer(job, result, now, [&](const HttpResponse& r) {
    return m_core.provider().parse_resolve(r, job.last);
  });
  if (!resolved) {
    return;
  }
  job.last = std::move(*resolved);
  job.streak(RequestPhase::poll) = {};
  m_core.schedule(job, now);  // to the Downloader, with the URL
}

}  // namespace vb
