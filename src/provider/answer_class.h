// AnswerClass: what a finished request means, decided by the dialect that sent it.
//
// A provider classifies its own answers (VideoProvider::classify): which status codes and
// error bodies mean "refused before any work", "slow down", "may have started a video",
// "refused for good", "content gone" or "credentials refused". The engine acts on the kind and
// never reads a vendor's error format or status-code sets. Value types; thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "http/http_transport.h"
#include "util/clock.h"

namespace vb {

// Which request an answer belongs to. `submit` is every paid request: a create, remix, edit,
// extension or character.
enum class RequestPhase { submit, poll, download, list, thumbnail };

const char* to_string(RequestPhase phase);

enum class AnswerKind {
  ok,         // success: read the body
  retry,      // no work was done (a paid request), or an idempotent one failed: try again
  slow_down,  // the provider's pacing (429, concurrency limits, overloaded): try again later;
              // never counted against the job, and the provider's whole queue slows down
  ambiguous,  // a paid request may have started work: never sent again blindly
  rejected,   // refused for good (validation, moderation, not found): the job fails
  expired,    // a download's URL or content is gone: ask for a fresh status
  stop_run,   // credentials or account refused (401/403, no quota left): stop everything
};

const char* to_string(AnswerKind kind);

struct AnswerClass {
  AnswerKind kind = AnswerKind::ok;
  std::optional<Millis> retry_after;  // the provider's hint (Retry-After and the like)
  std::string code;    // the ledger's error_code when it fails a job: "http_400", "moderation"...
  std::string detail;  // what happened, one line, from the provider's own words where it gave any
};

// The dialect-independent part: a request that got no complete HTTP answer. A paid request
// that certainly never reached the server may be sent again; one whose request left may have
// started work (ambiguous). Idempotent requests are retried. Call only when
// result.failure != TransportFailure::none.
AnswerClass classify_transport_failure(RequestPhase phase, const HttpResult& result);

}  // namespace vb
