// What answers say in their headers: when to ask again (retry-after-ms, else Retry-After in
// seconds or as an HTTP date), what is left of the request budget (x-ratelimit-*-requests) and
// how long a resumed download's whole file is. Pure; thread-safe.
#pragma once

#include <optional>

#include "http/http_transport.h"
#include "util/clock.h"

namespace vb {

// The hint in milliseconds from now_ms (HTTP dates are measured against it), capped at a day;
// nullopt when absent or unparsable. Never negative.
std::optional<Millis> parse_retry_after(const HttpResponse& response, Millis now_ms);

// The request budget an answer reports (OpenAI's x-ratelimit-limit-requests, -remaining-requests,
// -reset-requests, copied by many gateways). Each field only when present and readable.
struct RequestBudget {
  std::optional<double> limit;      // requests allowed per window (a minute for OpenAI)
  std::optional<double> remaining;  // left in the current window
  std::optional<Millis> reset_ms;   // until the window is full again ("6m0s", "20ms", "1.5")
};

RequestBudget parse_request_budget(const HttpResponse& response);

// A duration as rate-limit headers write it: Go's "1h2m3.5s" / "20ms", or plain seconds.
std::optional<Millis> parse_header_duration(const std::string& text);

// The whole file's length from `Content-Range: bytes a-b/total`, else the body's declared length
// plus what was already held before a 206; -1 when the answer does not say.
std::int64_t expected_total_bytes(const HttpResponse& response, std::int64_t had_before);

}  // namespace vb
