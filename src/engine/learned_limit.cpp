#include "engine/learned_limit.h"

#include <algorithm>
#include <cmath>

namespace vb {

LearnedLimit::LearnedLimit(double start, double floor, double ceiling, double step)
    : m_value(std::clamp(start, floor, std::max(floor, ceiling))),
      m_floor(floor),
      m_ceiling(std::max(floor, ceiling)),
      m_step(step) {}

bool LearnedLimit::refused(Millis sent_at, Millis now) {
  if (sent_at < m_last_halved || m_value <= m_floor) {
    return false;
  }
  m_value = std::max(m_floor, m_value / 2);
  m_last_halved = now;
  return true;
}

bool LearnedLimit::accepted() {
  const double before = m_value;
  m_value = std::min(m_ceiling, m_value + m_step / std::max(1.0, m_value));
  return std::floor(m_value) > std::floor(before);
}

void LearnedLimit::adopt(double value, Millis now) {
  if (value < m_value) {
    m_value = std::max(m_floor, value);
    m_last_halved = now;
  }
}

void LearnedLimit::tell_ceiling(double ceiling) {
  m_ceiling = std::max(m_floor, ceiling);
  m_value = std::min(m_value, m_ceiling);
}

}  // namespace vb
