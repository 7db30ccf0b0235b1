// UTC timestamps as the vendors write them: strftime/strptime patterns on Unix milliseconds.
// Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sim {

// `pattern` (strftime) of the second, then `.mmm` when with_millis.
std::string format_utc(int64_t ms, const char* pattern, bool with_millis);
// Unix ms of `text` read with `pattern` (strptime) from its start; nullopt when it does not match.
std::optional<int64_t> parse_utc(const std::string& text, const char* pattern);

}  // namespace sim
