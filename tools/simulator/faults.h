// Fault injection. All randomness comes from one PRNG seeded by --seed, and every API request
// draws the same number of values (roll()), so a given request sequence always sees the same
// faults. Thread-safe: one mutex guards config, PRNG and the "first N" budgets.
#pragma once

#include "options.h"
#include "vendor_faults.h"

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sim {

struct Dice {
  bool fail_429 = false;
  bool fail_500 = false;
  bool drop = false;
  bool lose_create = false;
};

class FaultInjector {
 public:
  FaultInjector(const FaultConfig& config, uint64_t seed);

  FaultConfig config() const;
  Dice roll();

  // True when this accepted create must lose its answer (first-N budget, then the dice).
  bool take_lost_create(bool dice_says_lose);
  bool take_dropped_create();
  // True when this download must stop half-way (first-N budget).
  bool take_truncate();
  // Admits a create under --rpm; records it when admitted.
  bool admit_create(int64_t now_ms);
  // The --rpm budget as OpenAI's x-ratelimit-*-requests headers state it: the limit, what is
  // left in the rolling minute, and the ms until the oldest create leaves it. Unset without --rpm.
  struct RpmBudget {
    int64_t limit = 0;
    int64_t remaining = 0;
    int64_t reset_ms = 0;
  };
  std::optional<RpmBudget> rpm_budget(int64_t now_ms);
  // The vendor refusal this native create gets, if any: the first-N budgets in rule order, then one
  // draw of a PRNG of its own (seeded from --seed), so the API request dice stay as they were.
  std::optional<VendorFaultKind> take_vendor_fault();

  // Applies a JSON object of knobs (names as in FaultConfig, plus "seed"). Returns an error
  // message, or an empty string on success. Setting a "first N" knob restarts its budget.
  std::string update_from_json(const std::string& body);
  std::string config_json() const;

 private:
  mutable std::mutex m_mutex;
  FaultConfig m_config;
  std::mt19937_64 m_rng;
  int64_t m_lost_used = 0;
  int64_t m_dropped_creates = 0;
  int64_t m_truncate_used = 0;
  std::deque<int64_t> m_create_times;        // admitted creates within the last 60 s
  std::vector<VendorRule> m_vendor_rules;    // parsed m_config.vendor_faults
  std::vector<int64_t> m_vendor_first_used;  // per rule
  std::mt19937_64 m_vendor_rng;
};

}  // namespace sim
