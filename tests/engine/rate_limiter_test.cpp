// [engine] RateLimiter in virtual time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/rate_limiter.h"

using namespace vb;

namespace {
constexpr Millis t0 = 1759763400000;
}

TEST_CASE("rate limiter: a full bucket gives exactly `burst` tokens at once", "[engine]") {
  RateLimiter limiter(1.0, 3);
  CHECK(limiter.try_take(t0));
  CHECK(limiter.try_take(t0));
  CHECK(limiter.try_take(t0));
  CHECK_FALSE(limiter.try_take(t0));
  CHECK_FALSE(limiter.try_take(t0));
}

TEST_CASE("rate limiter: burst below one is raised to one", "[engine]") {
  RateLimiter limiter(2.0, 0.2);
  CHECK(limiter.try_take(t0));
  CHECK_FALSE(limiter.try_take(t0));
  CHECK(limiter.next_available(t0) == t0 + 500);
}

TEST_CASE("rate limiter: refills at the configured rate", "[engine]") {
  RateLimiter limiter(2.0, 1);  // one token per 500 ms
  REQUIRE(limiter.try_take(t0));
  CHECK_FALSE(limiter.try_take(t0 + 499));
  CHECK(limiter.try_take(t0 + 500));
  CHECK_FALSE(limiter.try_take(t0 + 500));
  // Idle for a long time: still only `burst` tokens.
  CHECK(limiter.try_take(t0 + 100000));
  CHECK_FALSE(limiter.try_take(t0 + 100000));
}

TEST_CASE("rate limiter: next_available", "[engine]") {
  RateLimiter limiter(0.5, 2);  // one token per 2 s
  CHECK(limiter.next_available(t0) == t0);
  REQUIRE(limiter.try_take(t0));
  CHECK(limiter.next_available(t0) == t0);
  REQUIRE(limiter.try_take(t0));
  CHECK(limiter.next_available(t0) == t0 + 2000);
  CHECK(limiter.next_available(t0 + 500) == t0 + 2000);
  CHECK(limiter.next_available(t0 + 2000) == t0 + 2000);
  CHECK_FALSE(limiter.try_take(t0 + 1999));
  CHECK(limiter.try_take(limiter.next_available(t0 + 1999)));
}

TEST_CASE("rate limiter: a cool-down blocks tokens until it ends", "[engine]") {
  RateLimiter limiter(10.0, 5);
  limiter.cool_down_until(t0 + 5000);
  CHECK(limiter.cool_down_end() == t0 + 5000);
  CHECK_FALSE(limiter.try_take(t0));
  CHECK_FALSE(limiter.try_take(t0 + 4999));
  CHECK(limiter.next_available(t0) == t0 + 5000);
  // An earlier cool-down never shortens a later one.
  limiter.cool_down_until(t0 + 1000);
  CHECK(limiter.cool_down_end() == t0 + 5000);
  CHECK_FALSE(limiter.try_take(t0 + 2000));
  CHECK(limiter.try_take(t0 + 5000));
  // After the cool-down, no more than the burst at once.
  int taken = 1;
  while (limiter.try_take(t0 + 5000)) {
    ++taken;
  }
  CHECK(taken == 5);
}

TEST_CASE("rate limiter: a clock that goes back mints no tokens", "[engine]") {
  RateLimiter limiter(1.0, 1);
  REQUIRE(limiter.try_take(t0 + 10000));
  CHECK_FALSE(limiter.try_take(t0));
  CHECK_FALSE(limiter.try_take(t0 + 10000));
  CHECK(limiter.try_take(t0 + 11000));
}

TEST_CASE("rate limiter: never more than rate*T + burst over a long window", "[engine]") {
  struct Params {
    double rate;
    double burst;
  };
  const Params params[] = {{0.5, 1},   {1.0 / 3.0, 1}, {7.0 / 60.0, 2},
                           {5.0, 2.5}, {30.0, 15},     {0.1, 4}};
  std::mt19937_64 rng(12345);
  for (const Params& p : params) {
    for (int mode = 0; mode < 3; ++mode) {
      INFO("rate " << p.rate << " burst " << p.burst << " mode " << mode);
      RateLimiter limiter(p.rate, p.burst);
      const Millis window = 600000;  // 10 simulated minutes
      std::uniform_int_distribution<Millis> step(1, 700);
      long taken = 0;
      Millis t = t0;
      long misses_at_next_available = 0;
      while (t < t0 + window) {
        if (mode == 2) {
          // Jump straight to the announced time: a token must be there.
          Millis at = limiter.next_available(t);
          REQUIRE(at >= t);
          t = at;
          if (t >= t0 + window) break;
          if (limiter.try_take(t)) {
            ++taken;
          } else {
            ++misses_at_next_available;
            t += 1;
          }
          continue;
        }
        if (limiter.try_take(t)) {
          ++taken;
        }
        t += mode == 0 ? 1 : step(rng);
        if (mode == 1 && step(rng) < 10) {
          limiter.cool_down_until(t + step(rng) * 10);
        }
      }
      double bound = p.rate * static_cast<double>(window) / 1000.0 + std::max(1.0, p.burst);
      CHECK(static_cast<double>(taken) <= bound);
      if (mode != 1) {
        // Greedy takers get (almost) everything the rate allows.
        CHECK(static_cast<double>(taken) >= p.rate * static_cast<double>(window) / 1000.0 - 1);
      }
      if (mode == 2) {
        CHECK(misses_at_next_available == 0);
      }
    }
  }
}

TEST_CASE("rate limiter: a window cap holds every window to max_events, whatever the burst",
          "[engine]") {
  // 100/s with a half-second burst: the bucket alone lets 150 through one second.
  auto most_in_any_second = [](RateLimiter& limiter) {
    std::vector<Millis> taken;
    for (Millis t = t0; t < t0 + 10000; ++t) {
      while (limiter.try_take(t)) {
        taken.push_back(t);
      }
    }
    std::size_t most = 0;
    std::size_t first = 0;
    for (std::size_t last = 0; last < taken.size(); ++last) {
      while (taken[last] - taken[first] >= 1000) {
        ++first;
      }
      most = std::max(most, last - first + 1);
    }
    return std::pair{most, taken.size()};
  };
  RateLimiter bucket(100.0, 50);
  CHECK(most_in_any_second(bucket).first == 149);  // 50 at once, then one per 10 ms
  RateLimiter capped(100.0, 50, WindowCap{100, 1050});
  auto [most, total] = most_in_any_second(capped);
  CHECK(most == 100);
  CHECK(total >= 900);  // still close to the rate over 10 s (100 per 1.05 s)
  // next_available names the moment the window frees a slot.
  RateLimiter small(1000.0, 10, WindowCap{2, 1000});
  REQUIRE(small.try_take(t0));
  REQUIRE(small.try_take(t0 + 10));
  CHECK_FALSE(small.try_take(t0 + 500));
  CHECK(small.next_available(t0 + 500) == t0 + 1000);
  CHECK(small.try_take(t0 + 1000));
}
