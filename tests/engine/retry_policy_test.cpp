// [engine] decide_retry as one table over the provider's answer classes, the attempt and time
// bounds, the jitter bounds and Retry-After.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "engine/retry_policy.h"

using namespace vb;

namespace {

constexpr Millis k_minute = 60000;

RetryConfig small_config() {
  RetryConfig c;
  c.submit_attempts = 3;
  c.poll_attempts = 4;
  c.download_attempts = 2;
  c.base_delay_ms = 1000;
  c.max_delay_ms = 8000;
  c.give_up_after_ms = 15 * k_minute;
  return c;
}

AnswerClass answer(AnswerKind kind, std::string code = "x",
                   std::optional<Millis> retry_after = std::nullopt) {
  return {kind, retry_after, std::move(code), "what happened"};
}

// `attempts` failures, the first of them `failing_for` ago.
FailureStreak streak(int attempts, Millis failing_for = 0) {
  return {attempts, 100 * k_minute - failing_for};
}

const char* name(Verdict v) {
  switch (v) {
    case Verdict::retry:
      return "retry";
    case Verdict::give_up:
      return "give_up";
    case Verdict::ambiguous:
      return "ambiguous";
    case Verdict::stop_run:
      return "stop_run";
  }
  return "?";
}

struct Row {
  const char* what;
  RequestPhase phase;
  FailureStreak streak;
  AnswerClass answer;
  Verdict verdict;
  std::string code;
  Millis delay;  // with random01 = 0.5
};

constexpr auto submit = RequestPhase::submit;
constexpr auto poll = RequestPhase::poll;
constexpr auto download = RequestPhase::download;
constexpr Millis k_now = 100 * k_minute;

}  // namespace

TEST_CASE("retry policy: the decision table", "[engine]") {
  using K = AnswerKind;
  const std::vector<Row> rows = {
      {"refused, 1st", submit, streak(1), answer(K::retry, "http_408"), Verdict::retry, "http_408",
       500},
      {"refused, 2nd", submit, streak(2), answer(K::retry, "not_sent"), Verdict::retry, "not_sent",
       1000},
      {"ambiguous", submit, streak(1), answer(K::ambiguous, "create_ambiguous"), Verdict::ambiguous,
       "create_ambiguous", 0},
      {"ambiguous, late", submit, streak(9, 60 * k_minute), answer(K::ambiguous, ""),
       Verdict::ambiguous, "create_ambiguous", 0},
      {"rejected", submit, streak(1), answer(K::rejected, "http_400"), Verdict::give_up, "http_400",
       0},
      {"stop", poll, streak(1), answer(K::stop_run, "auth_401"), Verdict::stop_run, "auth_401", 0},
      {"slow down + hint", submit, streak(0), answer(K::slow_down, "http_429", 3000),
       Verdict::retry, "http_429", 3000},
      {"slow down no hint", poll, streak(0), answer(K::slow_down, "http_429"), Verdict::retry,
       "http_429", 500},
      // Counted failures give up only past both bounds: attempts and time.
      {"cap, not long", submit, streak(3, k_minute), answer(K::retry, "http_409"), Verdict::retry,
       "http_409", 2000},
      {"cap and long", submit, streak(3, 15 * k_minute), answer(K::retry, "http_409"),
       Verdict::give_up, "retries_exhausted", 0},
      {"long, under cap", poll, streak(3, 60 * k_minute), answer(K::retry, "timeout"),
       Verdict::retry, "timeout", 2000},
      {"poll cap and long", poll, streak(4, 16 * k_minute), answer(K::retry, "timeout"),
       Verdict::give_up, "retries_exhausted", 0},
      {"slow down never exhausts", submit, streak(50, 600 * k_minute),
       answer(K::slow_down, "http_429", 100), Verdict::retry, "http_429", 100},
      {"expired", download, streak(1), answer(K::expired, "content_expired"), Verdict::retry,
       "content_expired", 500},
      {"expired, exhausted", download, streak(2, 15 * k_minute),
       answer(K::expired, "content_expired"), Verdict::give_up, "content_expired", 0},
      {"disk", download, streak(1), answer(K::rejected, "disk_write_failed"), Verdict::give_up,
       "disk_write_failed", 0},
  };
  const RetryConfig config = small_config();
  for (const Row& row : rows) {
    INFO(row.what << " (" << to_string(row.phase) << ", attempts " << row.streak.attempts << ")");
    RetryDecision d = decide_retry(config, row.phase, row.streak, row.answer, k_now, 0.5);
    CHECK(std::string(name(d.verdict)) == name(row.verdict));
    CHECK(d.error_code == row.code);
    CHECK(d.delay_ms == row.delay);
    CHECK_FALSE(d.reason.empty());
  }
}

TEST_CASE("retry policy: a streak counts from its first failure", "[engine]") {
  FailureStreak s;
  s.count(1000);
  s.count(5000);
  CHECK(s.attempts == 2);
  CHECK(s.since == 1000);
}

TEST_CASE("retry policy: user-facing reasons", "[engine]") {
  const RetryConfig config = small_config();
  AnswerClass lost{AnswerKind::ambiguous,
                   {},
                   "create_ambiguous",
                   "timeout: Operation timed out after 60000 milliseconds"};
  CHECK(decide_retry(config, submit, streak(1), lost, k_now, 0.5).reason ==
        "the create request left but no answer proves it was refused (timeout: Operation timed out "
        "after 60000 milliseconds); a video may have been started and billed, so it is not sent "
        "again automatically");
  AnswerClass bad{AnswerKind::rejected, {}, "http_400", "HTTP 400: Invalid value for 'seconds'"};
  CHECK(decide_retry(config, submit, streak(1), bad, k_now, 0.5).reason ==
        "submit failed: HTTP 400: Invalid value for 'seconds'");
  AnswerClass reset{AnswerKind::retry, {}, "connection_lost", "connection_lost"};
  CHECK(decide_retry(config, poll, streak(4, 20 * k_minute), reset, k_now, 0.5).reason ==
        "poll failed 4 times in 1200 s; last error: connection_lost");
}

TEST_CASE("retry policy: full jitter stays inside [0, min(max, base*2^(n-1)))", "[engine]") {
  RetryConfig many = small_config();  // base 1000, max 8000
  many.poll_attempts = 1000;
  const Millis ceilings[] = {1000, 2000, 4000, 8000, 8000, 8000};
  const AnswerClass timeout = answer(AnswerKind::retry, "timeout");
  for (int attempts = 1; attempts <= 6; ++attempts) {
    Millis ceiling = ceilings[attempts - 1];
    for (double r : {0.0, 0.5, 0.999}) {
      INFO("attempts " << attempts << " random01 " << r);
      auto d = decide_retry(many, poll, streak(attempts), timeout, k_now, r);
      REQUIRE(d.verdict == Verdict::retry);
      CHECK(d.delay_ms >= 0);
      CHECK(d.delay_ms < ceiling);
      CHECK(d.delay_ms <= static_cast<Millis>(r * static_cast<double>(ceiling)) + 1);
      CHECK(d.delay_ms >= static_cast<Millis>(r * static_cast<double>(ceiling)) - 1);
    }
    CHECK(decide_retry(many, poll, streak(attempts), timeout, k_now, 0.5).delay_ms == ceiling / 2);
  }
  // Very many attempts: no overflow, still capped.
  CHECK(decide_retry(many, poll, streak(500), timeout, k_now, 0.999).delay_ms <= 8000);
  CHECK(decide_retry(many, poll, streak(500), timeout, k_now, 0.999).delay_ms >= 7990);
}

TEST_CASE("retry policy: Retry-After is honoured and capped at max_delay", "[engine]") {
  const RetryConfig config = small_config();
  auto slow = [](Millis hint) { return answer(AnswerKind::slow_down, "http_429", hint); };
  CHECK(decide_retry(config, submit, streak(1), slow(7999), k_now, 0.1).delay_ms == 7999);
  CHECK(decide_retry(config, submit, streak(1), slow(600000), k_now, 0.1).delay_ms == 8000);
  CHECK(decide_retry(config, submit, streak(1), slow(0), k_now, 0.9).delay_ms == 0);
  AnswerClass busy = answer(AnswerKind::retry, "http_503", 60000);
  CHECK(decide_retry(config, poll, streak(1), busy, k_now, 0.1).delay_ms == 8000);
  // The hint replaces the jitter: the same for every random01.
  CHECK(decide_retry(config, poll, streak(3), slow(1234), k_now, 0.0).delay_ms == 1234);
  CHECK(decide_retry(config, poll, streak(3), slow(1234), k_now, 0.999).delay_ms == 1234);
}
