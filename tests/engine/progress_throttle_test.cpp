// [engine] ProgressThrottle: a stream's progress reaches the ledger every 5 points, at most
// every 2 s, in fake time.
#include <catch2/catch.hpp>

#include "engine/progress_throttle.h"

using vb::ProgressThrottle;

TEST_CASE("progress throttle: 5 points and 2 s between writes", "[engine][progress]") {
  ProgressThrottle throttle;
  CHECK_FALSE(throttle.take(4.9, 1000));   // too small a step from nothing
  CHECK(throttle.take(5.0, 1000));         // the first write waits for no interval
  CHECK_FALSE(throttle.take(30.0, 2999));  // a big step, but within 2 s of the last write
  CHECK(throttle.take(30.0, 3000));
  CHECK_FALSE(throttle.take(34.0, 9000));  // long after, but a small step
  CHECK(throttle.take(35.0, 9000));
}

TEST_CASE("progress throttle: counts from what the ledger holds", "[engine][progress]") {
  ProgressThrottle throttle(40.0);
  CHECK_FALSE(throttle.take(42.0, 0));
  CHECK(throttle.take(45.0, 0));
}
