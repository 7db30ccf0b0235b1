#include "http/retry_after.h"

#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace vb {

namespace {

constexpr double k_max_hint_ms = 24.0 * 3600 * 1000;  // nobody waits longer than a day

std::optional<Millis> hint_ms(double ms) {
  if (!std::isfinite(ms) || ms < 0) {
    return std::nullopt;
  }
  return static_cast<Millis>(std::min(ms, k_max_hint_ms));
}

// The whole text as a number, or nullopt.
std::optional<double> number(const std::string& text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<Millis> parse_retry_after(const HttpResponse& response, Millis now_ms) {
  if (auto ms = response.header("retry-after-ms")) {
    if (auto value = number(*ms)) {
      if (auto v = hint_ms(*value)) {
        return v;
      }
    }
  }
  auto value = response.header("retry-after");
  if (!value) {
    return std::nullopt;
  }
  if (auto secs = number(*value)) {
    return hint_ms(*secs * 1000.0);
  }
  std::tm tm{};
  if (strptime(value->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr) {
    Millis at = static_cast<Millis>(timegm(&tm)) * 1000;
    return std::max<Millis>(0, at - now_ms);
  }
  return std::nullopt;
}

}  // namespace vb
