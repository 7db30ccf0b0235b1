// Clock: the only source of time in vidbatch, injected so that retry and
// polling logic can be tested with a FakeClock.
//
// Times are milliseconds since the Unix epoch (UTC) in an int64: the same unit
// the database stores. SystemClock is stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace vb {

using Millis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override;
};

// ISO 8601 UTC with milliseconds, e.g. "2026-11-24T21:18:57.123Z"; empty for 0.
std::string format_iso8601(Millis ms);

}  // namespace vb
