#include "engine/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <rapidjson/document.h>

namespace vb {

namespace {

bool is_transient_status(int status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

std::string describe(const AttemptOutcome& o) {
  if (o.http_status > 0) {
    std::string text = "HTTP " + std::to_string(o.http_status);
    return o.detail.empty() ? text : text + ": " + o.detail;
  }
  std::string text = to_string(o.transport);
  return o.detail.empty() ? text : text + ": " + o.detail;
}

Millis backoff(const RetryConfig& config, int attempts, const AttemptOutcome& outcome,
               double random01) {
  if (outcome.retry_after_ms && *outcome.retry_after_ms >= 0) {
    return std::min(*outcome.retry_after_ms, config.max_delay_ms);
  }
  double ceiling = static_cast<double>(config.base_delay_ms) *
                   std::pow(2.0, std::clamp(attempts - 1, 0, 30));
  ceiling = std::min(ceiling, static_cast<double>(config.max_delay_ms));
  return static_cast<Millis>(ceiling * std::clamp(random01, 0.0, 1.0));
}

int attempt_cap(const RetryConfig& config, RequestPhase phase) {
  switch (phase) {
    case RequestPhase::submit: return config.submit_attempts;
    case RequestPhase::poll: return config.poll_attempts;
    case RequestPhase::download: return config.download_attempts;
  }
  return 1;
}

// Did this failed create certainly not start a video?
bool create_certainly_not_started(const AttemptOutcome& o) {
  if (o.transport == TransportFailure::not_sent) {
    return true;
  }
  if (o.transport != TransportFailure::none) {
    return false;
  }
  if (o.http_status == 408 || o.http_status == 409 || o.http_status == 429) {
    return true;
  }
  return o.http_status >= 500 && o.json_error_body;
}

}  // namespace

const char* to_string(RequestPhase phase) {
  switch (phase) {
    case RequestPhase::submit: return "submit";
    case RequestPhase::poll: return "poll";
    case RequestPhase::download: return "download";
  }
  return "submit";
}

RetryDecision decide_retry(const RetryConfig& config, RequestPhase phase, int attempts,
                           const AttemptOutcome& outcome, double random01) {
  RetryDecision d;
  std::string what = describe(outcome);
  if (outcome.http_status == 401 || outcome.http_status == 403) {
    return {Verdict::stop_run, 0, "auth_" + std::to_string(outcome.http_status),
            "the provider refused the API key (" + what +
                "); check the key variable and the base URL"};
  }
  bool transient = outcome.transport != TransportFailure::none ||
                   is_transient_status(outcome.http_status);
  if (phase == RequestPhase::submit && transient && !create_certainly_not_started(outcome)) {
    return {Verdict::ambiguous, 0, "create_ambiguous",
            "the create request left but its answer was lost (" + what +
                "); a video may have been started and billed, so it is not resubmitted "
                "automatically"};
  }
  if (outcome.transport == TransportFailure::sink_failed) {
    return {Verdict::give_up, 0, "disk_write_failed",
            "could not write the video to disk (" + what + ")"};
  }
  if (!transient) {
    std::string code = outcome.http_status > 0 ? "http_" + std::to_string(outcome.http_status)
                                               : std::string("transport_") + to_string(outcome.transport);
    return {Verdict::give_up, 0, code, std::string(to_string(phase)) + " failed: " + what};
  }
  if (attempts >= attempt_cap(config, phase)) {
    return {Verdict::give_up, 0, "retries_exhausted",
            std::string(to_string(phase)) + " failed " + std::to_string(attempts) +
                " times; last error: " + what};
  }
  d.verdict = Verdict::retry;
  d.delay_ms = backoff(config, attempts, outcome, random01);
  d.error_code = outcome.http_status > 0 ? "http_" + std::to_string(outcome.http_status)
                                         : std::string(to_string(outcome.transport));
  d.reason = what;
  return d;
}

namespace {

constexpr double k_max_hint_ms = 24.0 * 3600 * 1000;  // nobody waits longer than a day

std::optional<Millis> hint_ms(double ms) {
  if (!std::isfinite(ms) || ms < 0) {
    return std::nullopt;
  }
  return static_cast<Millis>(std::min(ms, k_max_hint_ms));
}

}  // namespace

std::optional<Millis> parse_retry_after(const HttpResponse& response, Millis now_ms) {
  if (auto ms = response.header("retry-after-ms")) {
    try {
      if (auto v = hint_ms(std::stod(*ms))) {
        return v;
      }
    } catch (...) {
      // Fall through to Retry-After.
    }
  }
  auto value = response.header("retry-after");
  if (!value) {
    return std::nullopt;
  }
  try {
    std::size_t used = 0;
    double secs = std::stod(*value, &used);
    if (used == value->size()) {
      return hint_ms(secs * 1000.0);
    }
  } catch (...) {
    // Not a number: try an HTTP date.
  }
  std::tm tm{};
  if (strptime(value->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr) {
    Millis at = static_cast<Millis>(timegm(&tm)) * 1000;
    return std::max<Millis>(0, at - now_ms);
  }
  return std::nullopt;
}

AttemptOutcome outcome_of(const HttpResult& result, Millis now_ms) {
  AttemptOutcome o;
  o.transport = result.failure;
  if (result.failure != TransportFailure::none) {
    o.detail = result.error_text;
    // A half-read answer still tells us a status, but the transport failure decides.
    o.http_status = 0;
    return o;
  }
  o.http_status = result.response.status;
  o.retry_after_ms = parse_retry_after(result.response, now_ms);
  rapidjson::Document doc;
  const std::string& body = result.response.body;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  o.json_error_body = !doc.HasParseError() && doc.IsObject() && doc.HasMember("error");
  if (o.json_error_body) {
    const auto& error = doc["error"];
    if (error.IsObject() && error.HasMember("message") && error["message"].IsString()) {
      o.detail = std::string(error["message"].GetString()).substr(0, 300);
    }
  }
  return o;
}

}  // namespace vb
