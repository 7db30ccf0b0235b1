#include "engine/retry_policy.h"
#include "job/failure_codes.h"

#include <algorithm>
#include <cmath>

namespace vb {

namespace {

Millis backoff(const RetryConfig& config, int attempts, const AnswerClass& answer,
               double random01) {
  if (answer.retry_after && *answer.retry_after >= 0) {
    return std::min(*answer.retry_after, config.max_delay_ms);
  }
  double ceiling =
      static_cast<double>(config.base_delay_ms) * std::pow(2.0, std::clamp(attempts - 1, 0, 30));
  ceiling = std::min(ceiling, static_cast<double>(config.max_delay_ms));
  return static_cast<Millis>(ceiling * std::clamp(random01, 0.0, 1.0));
}

int attempt_cap(const RetryConfig& config, RequestPhase phase) {
  switch (phase) {
    case RequestPhase::submit:
      return config.submit_attempts;
    case RequestPhase::poll:
      return config.poll_attempts;
    case RequestPhase::download:
      return config.download_attempts;
    case RequestPhase::list:
    case RequestPhase::thumbnail:
      return 1;
  }
  return 1;
}

bool exhausted(const RetryConfig& config, RequestPhase phase, const FailureStreak& streak,
               Millis now) {
  return streak.attempts >= attempt_cap(config, phase) &&
         now - streak.since >= config.give_up_after_ms;
}

std::string for_how_long(const FailureStreak& streak, Millis now) {
  return std::to_string(streak.attempts) + " times in " +
         std::to_string((now - streak.since) / 1000) + " s";
}

}  // namespace

void FailureStreak::count(Millis now) {
  if (attempts == 0) {
    since = now;
  }
  attempts += 1;
}

RetryDecision decide_retry(const RetryConfig& config, RequestPhase phase,
                           const FailureStreak& streak, const AnswerClass& answer, Millis now,
                           double random01) {
  const std::string what = answer.detail;
  switch (answer.kind) {
    case AnswerKind::ok:
    case AnswerKind::stop_run:
      return {Verdict::stop_run, 0, answer.code, what};
    case AnswerKind::ambiguous:
      return {Verdict::ambiguous, 0, answer.code.empty() ? failure::create_ambiguous : answer.code,
              "the " + std::string(phase == RequestPhase::submit ? "create " : "") +
                  "request left but no answer proves it was refused (" + what +
                  "); a video may have been started and billed, so it is not sent again "
                  "automatically"};
    case AnswerKind::rejected:
      return {Verdict::give_up, 0, answer.code, std::string(to_string(phase)) + " failed: " + what};
    case AnswerKind::slow_down:
      return {Verdict::retry, backoff(config, std::max(streak.attempts, 1), answer, random01),
              answer.code, what};
    case AnswerKind::retry:
    case AnswerKind::expired:
      break;
  }
  if (exhausted(config, phase, streak, now)) {
    if (answer.kind == AnswerKind::expired) {
      return {Verdict::give_up, 0, answer.code, what};
    }
    return {Verdict::give_up, 0, failure::retries_exhausted,
            std::string(to_string(phase)) + " failed " + for_how_long(streak, now) +
                "; last error: " + what};
  }
  return {Verdict::retry, backoff(config, streak.attempts, answer, random01), answer.code, what};
}

}  // namespace vb
