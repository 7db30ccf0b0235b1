#include "engine/progress_throttle.h"

#include <cmath>

namespace vb {

bool ProgressThrottle::take(double progress, Millis now) {
  if (std::abs(progress - m_written) < k_min_step) {
    return false;
  }
  if (m_written_at && now - *m_written_at < k_min_interval_ms) {
    return false;
  }
  m_written = progress;
  m_written_at = now;
  return true;
}

}  // namespace vb
