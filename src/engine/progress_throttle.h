// ProgressThrottle: when a job's progress, read from a streamed create, is worth a ledger write:
// it moved by at least k_min_step points since the last write, and the last write is at least
// k_min_interval_ms old. A stream reports progress many times a second for minutes; readers of
// the ledger (status, jobs) need far less. Pure logic in virtual time. Not thread-safe.
#pragma once

#include <optional>

#include "util/clock.h"

namespace vb {

class ProgressThrottle {
 public:
  static constexpr double k_min_step = 5.0;
  static constexpr Millis k_min_interval_ms = 2000;

  // `recorded`: the progress the ledger holds for the job, if any.
  explicit ProgressThrottle(std::optional<double> recorded = std::nullopt)
      : m_written(recorded.value_or(0.0)) {}

  // True when `progress` at `now` should be written; it then counts as written.
  bool take(double progress, Millis now);

 private:
  double m_written;
  std::optional<Millis> m_written_at;  // unset: nothing written yet
};

}  // namespace vb
