#include "util/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace vb {

Millis SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_iso8601(Millis ms) {
  if (ms <= 0) {
    return {};
  }
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];  // the largest Millis is in the year 292278994: 29 characters
  const std::size_t length = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + length, sizeof buf - length, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace vb
