#include "engine/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace vb {

RateLimiter::RateLimiter(double rate_per_second, double burst, WindowCap cap)
    : m_rate_per_ms(rate_per_second / 1000.0),
      m_burst(std::max(1.0, burst)),
      m_tokens(m_burst),
      m_cap(cap) {}

void RateLimiter::refill(Millis now) {
  if (m_last >= 0 && now > m_last) {
    m_tokens = std::min(m_burst, m_tokens + static_cast<double>(now - m_last) * m_rate_per_ms);
  }
  if (now > m_last) {
    m_last = now;
  }
}

bool RateLimiter::try_take(Millis now) {
  refill(now);
  if (now < m_cool_down_until || m_tokens < 1.0 || window_full(now)) {
    return false;
  }
  m_tokens -= 1.0;
  if (m_cap.max_events > 0) {
    if (m_recent.size() == m_cap.max_events) {
      m_recent.pop_front();
    }
    m_recent.push_back(now);
  }
  return true;
}

Millis RateLimiter::next_available(Millis now) const {
  double tokens = m_tokens;
  if (m_last >= 0 && now > m_last) {
    tokens = std::min(m_burst, tokens + static_cast<double>(now - m_last) * m_rate_per_ms);
  }
  Millis at = now;
  if (tokens < 1.0) {
    at = now + static_cast<Millis>(std::ceil((1.0 - tokens) / m_rate_per_ms));
  }
  if (window_full(now)) {
    at = std::max(at, m_recent.front() + m_cap.window_ms);
  }
  return std::max(at, m_cool_down_until);
}

bool RateLimiter::window_full(Millis now) const {
  return m_cap.max_events > 0 && m_recent.size() == m_cap.max_events &&
         now - m_recent.front() < m_cap.window_ms;
}

void RateLimiter::set_rate(double rate_per_second, double burst, Millis now) {
  refill(now);
  m_rate_per_ms = rate_per_second / 1000.0;
  m_burst = std::max(1.0, burst);
  m_tokens = std::min(m_tokens, m_burst);
}

void RateLimiter::cool_down_until(Millis until) {
  m_cool_down_until = std::max(m_cool_down_until, until);
}

}  // namespace vb
