// RateLimiter: a token bucket in virtual time (the caller passes now), with a
// shared cool-down so that one 429 slows the whole run, not just one job.
// Pure logic, testable with any clock. Not thread-safe.
#pragma once

#include <cstddef>
#include <deque>

#include "util/clock.h"

namespace vb {

// A hard ceiling on top of the bucket: at most `max_events` tokens in any
// `window_ms`. A bucket alone lets rate x window + burst through one window.
struct WindowCap {
  std::size_t max_events = 0;  // 0 = no ceiling
  Millis window_ms = 0;
};

class RateLimiter {
 public:
  // rate_per_second > 0; burst >= 1 tokens may be taken at once after idling.
  RateLimiter(double rate_per_second, double burst, WindowCap cap = {});

  // Takes one token if one is available at `now`.
  bool try_take(Millis now);
  // The earliest time a token will be available (now if one is).
  Millis next_available(Millis now) const;
  // A new rate from `now` on (a learnt limit moved); tokens held stay, up to the new burst.
  void set_rate(double rate_per_second, double burst, Millis now);
  // No token is handed out before `until` (a 429's Retry-After).
  void cool_down_until(Millis until);
  Millis cool_down_end() const { return m_cool_down_until; }

 private:
  void refill(Millis now);
  bool window_full(Millis now) const;

  double m_rate_per_ms;
  double m_burst;
  double m_tokens;
  Millis m_last = -1;
  Millis m_cool_down_until = 0;
  WindowCap m_cap;
  std::deque<Millis> m_recent;  // times of the last cap.max_events tokens
};

}  // namespace vb
