// FakeClock: manual virtual time for the [engine] tests (advance it, or let
// FakeTransport advance it while the engine waits). Not thread-safe.
#pragma once

#include "util/clock.h"

namespace vb::fake {

// 2025-10-06T15:10:00Z: a realistic epoch so that timestamps in ms look like real ones.
inline constexpr Millis k_epoch_ms = 1759763400000;

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = k_epoch_ms) : m_now(start) {}
  Millis now_ms() const override { return m_now; }
  void advance(Millis ms) { m_now += ms; }
  void set(Millis at) { m_now = at; }

 private:
  Millis m_now;
};

}  // namespace vb::fake
