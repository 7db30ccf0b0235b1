#include "engine/poll_concurrency.h"

#include <algorithm>
#include <cmath>

namespace vb {

namespace {

constexpr double k_headroom = 2.0;  // answer times vary; the rate must hold through a slow spell
constexpr double k_decay = 1.0 / 16;

}  // namespace

PollConcurrency::PollConcurrency(double polls_per_second, std::size_t ceiling)
    : m_rate_per_ms(polls_per_second / 1000.0), m_ceiling(std::clamp(ceiling, k_min, k_max)) {}

std::size_t PollConcurrency::limit() const {
  if (m_rate_per_ms <= 0) {
    return m_ceiling;
  }
  const double needed = std::ceil(m_rate_per_ms * m_answer_ms * k_headroom);
  if (needed >= static_cast<double>(m_ceiling)) {
    return m_ceiling;
  }
  return std::clamp(static_cast<std::size_t>(needed), k_min, m_ceiling);
}

void PollConcurrency::record(Millis answer_ms) {
  const auto sample = static_cast<double>(std::max<Millis>(answer_ms, 0));
  m_answer_ms = sample >= m_answer_ms ? sample : m_answer_ms + (sample - m_answer_ms) * k_decay;
}

}  // namespace vb
