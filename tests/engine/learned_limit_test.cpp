// [engine] LearnedLimit (AIMD) and the Scheduler's learnt limits, in virtual time.
#include <catch2/catch.hpp>

#include <cmath>
#include <deque>

#include "engine/learned_limit.h"
#include "engine/run_core.h"

using namespace vb;

namespace {

constexpr Millis k_learned_t0 = 1759763400000;

HttpResponse answer(int status, std::vector<HttpHeader> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  return r;
}

}  // namespace

TEST_CASE("learned limit: a refusal halves, one burst of refusals halves once", "[engine]") {
  LearnedLimit limit(8, 1, 8, 1);
  CHECK(limit.refused(k_learned_t0, k_learned_t0 + 100));
  CHECK(limit.value() == 4);
  // Sent before the halving: the same burst, nothing new.
  CHECK_FALSE(limit.refused(k_learned_t0 + 50, k_learned_t0 + 120));
  CHECK(limit.value() == 4);
  // Sent after it: the halved value was too much as well.
  CHECK(limit.refused(k_learned_t0 + 200, k_learned_t0 + 300));
  CHECK(limit.value() == 2);
  CHECK(limit.refused(k_learned_t0 + 400, k_learned_t0 + 500));
  CHECK(limit.refused(k_learned_t0 + 600, k_learned_t0 + 700) == false);  // at the floor already
  CHECK(limit.value() == 1);
}

TEST_CASE("learned limit: adopts another worker's lower value, as a halving", "[engine]") {
  LearnedLimit limit(8, 1, 8, 1);
  limit.adopt(10, k_learned_t0);  // higher: kept
  CHECK(limit.value() == 8);
  limit.adopt(3, k_learned_t0 + 100);
  CHECK(limit.value() == 3);
  CHECK_FALSE(limit.refused(k_learned_t0 + 50, k_learned_t0 + 120));  // sent under the old value
  CHECK(limit.value() == 3);
  limit.adopt(0, k_learned_t0 + 200);  // never below the floor
  CHECK(limit.value() == 1);
}

TEST_CASE("learned limit: grows by one step per round of accepted requests", "[engine]") {
  LearnedLimit limit(4, 1, 6, 1);
  int accepted = 0;
  while (limit.value() < 5) {
    limit.accepted();
    accepted += 1;
  }
  // Each accepted request adds step / value: about one step per round (4 accepted at 4).
  CHECK(accepted == 5);
  while (limit.value() < 6) {
    limit.accepted();
    accepted += 1;
  }
  CHECK(accepted == 10);
  for (int i = 0; i < 100; ++i) {
    limit.accepted();
  }
  CHECK(limit.value() == 6);  // never past the ceiling
}

TEST_CASE("learned limit: pinned when floor equals ceiling", "[engine]") {
  LearnedLimit pinned(30, 30, 30, 1);
  CHECK_FALSE(pinned.refused(k_learned_t0, k_learned_t0));
  pinned.accepted();
  CHECK(pinned.value() == 30);
}

TEST_CASE("learned limit: a told ceiling lowers the value at once", "[engine]") {
  LearnedLimit limit(60, 1, 600, 20);
  limit.tell_ceiling(25);
  CHECK(limit.value() == 25);
  for (int i = 0; i < 100; ++i) {
    limit.accepted();
  }
  CHECK(limit.value() == 25);
}

// A provider that refuses creates past 5 at once, each video taking 3 s: the learnt cap settles
// into a band around 5 and the refusals are a small share of the creates.
TEST_CASE("scheduler: the in-flight cap converges on the provider's concurrency", "[engine]") {
  LimitsConfig limits;
  limits.max_in_flight = 16;
  limits.submits_per_minute = 6000;  // pinned high: only concurrency binds
  Scheduler scheduler(limits, DocumentedLimits{});
  constexpr std::size_t k_provider_limit = 5;
  constexpr Millis k_gen_ms = 3000;
  std::deque<Millis> running;  // finish times at the provider
  int refused = 0;
  int accepted = 0;
  std::size_t low = 100;
  std::size_t high = 0;
  for (Millis now = k_learned_t0; now < k_learned_t0 + 600000; now += 100) {
    while (!running.empty() && running.front() <= now) {
      running.pop_front();
    }
    // The engine counts a job at the provider until it sees it finished: one poll later.
    std::size_t ours = running.size();
    while (ours < scheduler.in_flight_cap() && scheduler.take_submit_token(now)) {
      const Millis sent = now;
      if (running.size() >= k_provider_limit) {
        scheduler.create_answered(answer(429), AnswerKind::slow_down, sent, now + 50);
        refused += 1;
        break;
      }
      running.push_back(now + k_gen_ms);
      ours += 1;
      scheduler.create_answered(answer(200), AnswerKind::ok, sent, now + 50);
      accepted += 1;
    }
    if (now > k_learned_t0 + 60000) {
      low = std::min(low, scheduler.in_flight_cap());
      high = std::max(high, scheduler.in_flight_cap());
    }
  }
  CHECK(low >= 3);
  CHECK(high <= 6);
  CHECK(refused * 10 < accepted);
  CHECK(accepted > 600 / 3 * 3.5);  // over 70% of the provider's 5 at once
}

TEST_CASE("scheduler: a fixed rate stays pinned through refusals", "[engine]") {
  LimitsConfig limits;
  limits.submits_per_minute = 30;
  Scheduler scheduler(limits, DocumentedLimits{});
  scheduler.create_answered(answer(429), AnswerKind::slow_down, k_learned_t0, k_learned_t0 + 10);
  CHECK(scheduler.submits_per_minute() == 30);
  CHECK(scheduler.in_flight_cap() == 4);  // the in-flight cap is learnt either way
}

TEST_CASE("scheduler: auto starts at the documented rate, halves and grows back", "[engine]") {
  LimitsConfig limits;  // submits_per_minute = "auto" by default
  REQUIRE(limits.submits_per_minute == k_rate_auto);
  Scheduler scheduler(limits, DocumentedLimits{20.0, {}, "doc"});
  CHECK(scheduler.submits_per_minute() == 20);
  // Far from the rate (one create this minute): a refusal is the concurrency's alone.
  REQUIRE(scheduler.take_submit_token(k_learned_t0));
  scheduler.create_answered(answer(429), AnswerKind::slow_down, k_learned_t0, k_learned_t0 + 10);
  CHECK(scheduler.submits_per_minute() == 20);
  CHECK(scheduler.in_flight_cap() == 4);
  // Creates near the rate (one every 3.1 s): now the rate halves as well.
  for (Millis at = k_learned_t0 + 3100; at <= k_learned_t0 + 31000; at += 3100) {
    REQUIRE(scheduler.take_submit_token(at));
  }
  scheduler.create_answered(answer(429), AnswerKind::slow_down, k_learned_t0 + 31000,
                            k_learned_t0 + 31010);
  CHECK(scheduler.submits_per_minute() == 10);
  CHECK(scheduler.in_flight_cap() == 2);
  for (int i = 0; i < 400; ++i) {
    scheduler.create_answered(answer(200), AnswerKind::ok, k_learned_t0 + 40000,
                              k_learned_t0 + 40010);
  }
  CHECK(scheduler.submits_per_minute() == 20);  // the documented rate is the ceiling
}

TEST_CASE("scheduler: rate-limit headers set the ceiling and pause the creates", "[engine]") {
  LimitsConfig limits;
  Scheduler scheduler(limits, DocumentedLimits{});
  CHECK(scheduler.submits_per_minute() == 600);  // nothing documented: the ceiling
  scheduler.create_answered(answer(200, {{"x-ratelimit-limit-requests", "25"},
                                         {"x-ratelimit-remaining-requests", "0"},
                                         {"x-ratelimit-reset-requests", "2.5s"}}),
                            AnswerKind::ok, k_learned_t0, k_learned_t0);
  CHECK(scheduler.submits_per_minute() == 25);
  CHECK(scheduler.next_submit_token(k_learned_t0) == k_learned_t0 + 2500);
  // A pinned rate keeps its number; the pause still applies.
  limits.submits_per_minute = 90;
  Scheduler pinned(limits, DocumentedLimits{});
  pinned.create_answered(answer(200, {{"x-ratelimit-limit-requests", "25"}}), AnswerKind::ok,
                         k_learned_t0, k_learned_t0);
  CHECK(pinned.submits_per_minute() == 90);
}

TEST_CASE("scheduler: requests left in the budget tell a concurrency refusal from a rate one",
          "[engine]") {
  LimitsConfig limits;
  Scheduler scheduler(limits, DocumentedLimits{});
  scheduler.create_answered(answer(429, {{"x-ratelimit-remaining-requests", "12"}}),
                            AnswerKind::slow_down, k_learned_t0, k_learned_t0 + 10);
  CHECK(scheduler.in_flight_cap() == 4);
  CHECK(scheduler.submits_per_minute() == 600);  // requests were left: not the rate
  scheduler.create_answered(answer(429, {{"x-ratelimit-remaining-requests", "0"},
                                         {"x-ratelimit-reset-requests", "1s"}}),
                            AnswerKind::slow_down, k_learned_t0 + 20, k_learned_t0 + 30);
  CHECK(scheduler.in_flight_cap() == 4);  // none left: the rate, not the concurrency
  CHECK(scheduler.submits_per_minute() == 300);
  CHECK(scheduler.next_submit_token(k_learned_t0 + 30) == k_learned_t0 + 1030);
}
