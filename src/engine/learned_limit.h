// LearnedLimit: a provider limit learnt while the run goes, additive increase, multiplicative
// decrease (AIMD). A refusal for pacing (a 429, a concurrency code) halves the value; accepted
// requests raise it by `step` per round (a round: as many accepted requests as the value), so
// it probes the provider's real limit slowly and backs off at once. Refusals of requests sent
// before the last halving say nothing new (they were sent under the old value) and are ignored,
// so one burst of refusals halves once. Always within [floor, ceiling]; pinned when
// floor == ceiling. Pure logic in virtual time. Not thread-safe.
#pragma once

#include "util/clock.h"

namespace vb {

class LearnedLimit {
 public:
  // start is clamped to [floor, ceiling]; step > 0.
  LearnedLimit(double start, double floor, double ceiling, double step);

  double value() const { return m_value; }
  double ceiling() const { return m_ceiling; }
  // A request sent at `sent_at` was refused for pacing at `now`: true when the value halved.
  bool refused(Millis sent_at, Millis now);
  // A request was accepted: true when the value rose past the next whole number.
  bool accepted();
  // Another worker's lower value (a limit shared through the ledger): taken when below this
  // one, as a halving at `now` (refusals of requests sent before it are then ignored).
  void adopt(double value, Millis now);
  // The provider told the real limit (a rate-limit header): the ceiling drops to it.
  void tell_ceiling(double ceiling);

 private:
  double m_value;
  double m_floor;
  double m_ceiling;
  double m_step;
  Millis m_last_halved = -1;
};

}  // namespace vb
