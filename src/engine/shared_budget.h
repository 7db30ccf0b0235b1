// SharedBudget: the estimated USD sent to providers, shared by the run loops
// of every provider in one run, so that together they stay under
// limits.budget_usd. Thread-safe.
#pragma once

#include <mutex>
#include <optional>

namespace vb {

class SharedBudget {
 public:
  explicit SharedBudget(std::optional<double> limit_usd) : m_limit(limit_usd) {}

  std::optional<double> limit() const { return m_limit; }
  // What the ledger had already sent before this run.
  void add_spent(double usd) {
    std::lock_guard lock(m_mutex);
    m_spent += usd;
  }
  // Reserves `usd` when it fits under the limit; once a reservation fails,
  // every later one fails too (submissions stop in file order, not by size).
  bool try_spend(double usd) {
    std::lock_guard lock(m_mutex);
    if (m_reached || (m_limit && m_spent + usd > *m_limit)) {
      m_reached = true;
      return false;
    }
    m_spent += usd;
    return true;
  }
  void mark_reached() {
    std::lock_guard lock(m_mutex);
    m_reached = true;
  }
  bool reached() const {
    std::lock_guard lock(m_mutex);
    return m_reached;
  }
  double spent() const {
    std::lock_guard lock(m_mutex);
    return m_spent;
  }

 private:
  mutable std::mutex m_mutex;
  std::optional<double> m_limit;
  double m_spent = 0;
  bool m_reached = false;
};

}  // namespace vb
