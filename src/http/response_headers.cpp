#include "http/response_headers.h"

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

std::optional<Millis> parse_header_duration(const std::string& text) {
  if (auto secs = number(text)) {
    return hint_ms(*secs * 1000.0);
  }
  // Go's time.Duration text: numbers each followed by h, m, s or ms.
  double ms = 0;
  const char* at = text.data();
  const char* end = text.data() + text.size();
  while (at < end) {
    double value = 0;
    auto [next, ec] = std::from_chars(at, end, value);
    if (ec != std::errc() || next == end || value < 0) {
      return std::nullopt;
    }
    at = next;
    if (end - at >= 2 && at[0] == 'm' && at[1] == 's') {
      ms += value;
      at += 2;
    } else if (*at == 'h' || *at == 'm' || *at == 's') {
      ms += value * (*at == 'h' ? 3600000.0 : *at == 'm' ? 60000.0 : 1000.0);
      at += 1;
    } else {
      return std::nullopt;
    }
  }
  return text.empty() ? std::nullopt : hint_ms(ms);
}

RequestBudget parse_request_budget(const HttpResponse& response) {
  RequestBudget budget;
  auto count = [&](std::string_view name) -> std::optional<double> {
    auto text = response.header(name);
    auto value = text ? number(*text) : std::nullopt;
    return value && std::isfinite(*value) && *value >= 0 ? value : std::nullopt;
  };
  budget.limit = count("x-ratelimit-limit-requests");
  budget.remaining = count("x-ratelimit-remaining-requests");
  if (auto reset = response.header("x-ratelimit-reset-requests")) {
    budget.reset_ms = parse_header_duration(*reset);
  }
  return budget;
}

std::int64_t expected_total_bytes(const HttpResponse& response, std::int64_t had_before) {
  if (auto range = response.header("content-range")) {
    auto slash = range->rfind('/');
    if (slash != std::string::npos && range->substr(slash + 1) != "*") {
      const std::string total = range->substr(slash + 1);
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(total.data(), total.data() + total.size(), value);
      if (ec == std::errc() && end == total.data() + total.size() && value >= 0) {
        return value;
      }
      return -1;
    }
  }
  if (response.content_length) {
    return response.status == 206 ? had_before + *response.content_length
                                  : *response.content_length;
  }
  return -1;
}

}  // namespace vb
