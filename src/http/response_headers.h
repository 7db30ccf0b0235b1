// What answers say in their headers: when to ask again (retry-after-ms, else Retry-After in
// seconds or as an HTTP date) and how long a resumed download's whole file is. Pure;
// thread-safe.
#pragma once

#include <optional>

#include "http/http_transport.h"
#include "util/clock.h"

namespace vb {

// The hint in milliseconds from now_ms (HTTP dates are measured against it), capped at a day;
// nullopt when absent or unparsable. Never negative.
std::optional<Millis> parse_retry_after(const HttpResponse& response, Millis now_ms);

// The whole file's length from `Content-Range: bytes a-b/total`, else the body's declared length
// plus what was already held before a 206; -1 when the answer does not say.
std::int64_t expected_total_bytes(const HttpResponse& response, std::int64_t had_before);

}  // namespace vb
