// RetryPolicy: decides, as a pure function, what to do after a failed request.
//
// Money rule for creates (no provider honours idempotency keys): a create is
// retried only when it certainly did not start a video: the connection was
// never established, or the provider answered 408/409/429, or 5xx with a JSON
// error body. A create whose request left but whose answer was lost or
// unreadable is `ambiguous`, never retried automatically. Polls and downloads
// are idempotent and retried freely. 401/403 stop the whole run.
// Delays: Retry-After / retry-after-ms when given (up to max_delay), else
// exponential back-off with full jitter. Thread-safe (pure).
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "http/http_transport.h"
#include "util/clock.h"

namespace vb {

enum class RequestPhase { submit, poll, download };

const char* to_string(RequestPhase phase);

// Everything the decision needs to know about one failed attempt.
struct AttemptOutcome {
  TransportFailure transport = TransportFailure::none;
  int http_status = 0;                  // 0 when no answer
  bool json_error_body = false;         // the answer carried a JSON error envelope
  std::optional<Millis> retry_after_ms; // from Retry-After / retry-after-ms
  std::string detail;                   // human text for the reason
};

enum class Verdict {
  retry,      // try again after delay_ms
  give_up,    // terminal failure of this job with `reason`
  ambiguous,  // create may have started a video: hold the job for reconciliation
  stop_run,   // credentials refused: stop everything
};

struct RetryDecision {
  Verdict verdict = Verdict::give_up;
  Millis delay_ms = 0;
  std::string error_code;   // e.g. "http_400", "retries_exhausted", "create_ambiguous"
  std::string reason;       // one sentence for the user
};

// `attempts` = attempts already made in this phase, including the failed one.
// `random01` in [0,1) supplies the jitter, so tests can pin it.
RetryDecision decide_retry(const RetryConfig& config, RequestPhase phase, int attempts,
                           const AttemptOutcome& outcome, double random01);

// Server hint from retry-after-ms, else Retry-After (seconds or an HTTP date,
// measured against now_ms). nullopt when absent or unparsable.
std::optional<Millis> parse_retry_after(const HttpResponse& response, Millis now_ms);

// Builds the outcome of a finished transfer (status >= 400 or a transport failure).
AttemptOutcome outcome_of(const HttpResult& result, Millis now_ms);

}  // namespace vb
