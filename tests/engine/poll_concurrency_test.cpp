// [engine] PollConcurrency: status requests in flight follow rate x answer time.
#include <catch2/catch.hpp>

#include "engine/poll_concurrency.h"

using namespace vb;

TEST_CASE("poll concurrency: starts small, before any answer says how long answers take",
          "[engine]") {
  PollConcurrency polls(1000, 256);
  CHECK(polls.limit() == PollConcurrency::k_min);
  CHECK(polls.may_start(PollConcurrency::k_min - 1));
  CHECK_FALSE(polls.may_start(PollConcurrency::k_min));
}

TEST_CASE("poll concurrency: twice rate x answer time, within [k_min, k_max and the ceiling]",
          "[engine]") {
  SECTION("fast answers: the minimum is enough for 1000/s") {
    PollConcurrency polls(1000, 256);
    polls.record(2);
    CHECK(polls.limit() == PollConcurrency::k_min);
  }
  SECTION("20/s answered in 800 ms needs 16 in flight: 32 allowed") {
    PollConcurrency polls(20, 256);
    polls.record(800);
    CHECK(polls.limit() == 32);
  }
  SECTION("never more than k_max, however slow the answers look") {
    PollConcurrency polls(1000, 256);
    polls.record(300);
    CHECK(polls.limit() == PollConcurrency::k_max);
  }
  SECTION("never more than the transport's connections") {
    PollConcurrency polls(1000, 40);
    polls.record(300);
    CHECK(polls.limit() == 40);
  }
  SECTION("no rate: the ceiling") {
    PollConcurrency polls(0, 32);
    CHECK(polls.limit() == 32);
  }
}

TEST_CASE("poll concurrency: up at once with a slow answer, down slowly", "[engine]") {
  PollConcurrency polls(20, 256);
  polls.record(20);
  CHECK(polls.limit() == PollConcurrency::k_min);
  polls.record(800);  // the provider slowed down: the limit follows the first slow answer
  CHECK(polls.limit() == 32);
  polls.record(10);  // one fast answer moves it a sixteenth of the way back
  CHECK(polls.answer_ms() == Approx(800 - 790.0 / 16));
  CHECK(polls.limit() == 31);
  for (int i = 0; i < 100; ++i) {
    polls.record(10);
  }
  CHECK(polls.limit() == PollConcurrency::k_min);
}
