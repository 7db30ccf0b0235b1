// RetryPolicy: decides, as a pure function, what to do after a failed request.
//
// The provider has classified the answer (provider/answer_class.h); this decides what the run
// does with it. Money rule for paid requests (no provider honours idempotency keys): only an
// answer the dialect classified as "no work was done" is sent again; one that may have started
// a video is `ambiguous`, never resent automatically. A provider's pacing (slow_down) never
// counts against a job. Other failures count: a job gives up a phase only after both
// `attempts` failures and `give_up_after_ms` of failing, with exponential back-off and full
// jitter between attempts (a server's Retry-After wins, up to max_delay_ms). Thread-safe (pure).
#pragma once

#include <string>

#include "config/config.h"
#include "provider/answer_class.h"
#include "util/clock.h"

namespace vb {

// The failed attempts of one phase of one job since its last success.
struct FailureStreak {
  int attempts = 0;  // failures counted so far, the one being decided included
  Millis since = 0;  // when the first of them failed

  // Counts a failure at `now` (slow_down answers are not counted: see RetryPolicy).
  void count(Millis now);
};

enum class Verdict {
  retry,      // try again after delay_ms
  give_up,    // terminal failure of this job with `error_code`
  ambiguous,  // a paid request may have started a video: hold the job for reconciliation
  stop_run,   // credentials or account refused: stop everything
};

struct RetryDecision {
  Verdict verdict = Verdict::give_up;
  Millis delay_ms = 0;
  std::string error_code;  // e.g. "http_400", "retries_exhausted", "create_ambiguous"
  std::string reason;      // one sentence for the user
};

// `random01` in [0,1) supplies the jitter, so tests can pin it.
RetryDecision decide_retry(const RetryConfig& config, RequestPhase phase,
                           const FailureStreak& streak, const AnswerClass& answer, Millis now,
                           double random01);

}  // namespace vb
