#include "utc_time.h"

#include <cstdio>
#include <ctime>

namespace sim {

std::string format_utc(int64_t ms, const char* pattern, bool with_millis) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::string out(buffer, std::strftime(buffer, sizeof buffer, pattern, &tm));
  if (with_millis) {
    std::snprintf(buffer, sizeof buffer, ".%03d", static_cast<int>(ms % 1000));
    out += buffer;
  }
  return out;
}

std::optional<int64_t> parse_utc(const std::string& text, const char* pattern) {
  std::tm tm{};
  if (strptime(text.c_str(), pattern, &tm) == nullptr) {
    return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace sim
