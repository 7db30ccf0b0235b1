// ListingPages: one walk through the provider's video listing, shared by reconciliation and
// the status sweep.
#include "engine/run_parts.h"

namespace vb {

void ListingPages::send_next(RequestOwner& owner, Traffic traffic, Millis now) {
  HttpRequest request = m_core.provider().list_request(m_pages == 0 ? "" : m_after);
  m_in_flight = true;
  m_core.send(std::move(request), traffic, owner, 0, now);
}

void ListingPages::restart() {
  m_pages = 0;
  m_after.clear();
}

Result<RemotePage> ListingPages::read(const HttpResult& result, Millis now, AnswerKind& kind) {
  m_in_flight = false;
  AnswerClass answer = m_core.provider().classify(RequestPhase::list, result, now);
  kind = answer.kind;
  auto page = answer.kind == AnswerKind::ok
                  ? m_core.provider().parse_list(m_pages == 0 ? "" : m_after, result.response)
                  : Result<RemotePage>(fail(ErrorCode::http, answer.detail));
  if (page) {
    m_pages += 1;
    m_after = page->last_id;
  }
  return page;
}

}  // namespace vb
