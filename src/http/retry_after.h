// Server hints on when to ask again: retry-after-ms, else Retry-After (seconds or an
// HTTP date). Pure; thread-safe.
#pragma once

#include <optional>

#include "http/http_transport.h"
#include "util/clock.h"

namespace vb {

// The hint in milliseconds from now_ms (HTTP dates are measured against it), capped at a day;
// nullopt when absent or unparsable. Never negative.
std::optional<Millis> parse_retry_after(const HttpResponse& response, Millis now_ms);

}  // namespace vb
