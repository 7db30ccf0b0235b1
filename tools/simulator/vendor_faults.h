// Vendor refusals of native creates: the answers a provider gives a valid, paid request it will not
// run (rate limit, concurrency over the plan, no balance, content safety, ...). Each dialect words
// a kind its own way (routes_kling.cpp, routes_minimax.cpp). Rules are parsed here; FaultInjector
// holds them with their first-N budgets and draws for them. Pure functions.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

enum class VendorFaultKind {
  rate_limit,   // kling 429/1302, minimax 1002
  concurrency,  // kling 429/1303, minimax 1002 (MiniMax has no concurrency code)
  balance,      // kling 429/1102, minimax 1008: not retryable
  sensitive,    // kling 400/1301, minimax 1026: the input failed the content-safety check
  invalid,      // kling 400/1201, minimax 2013
  server        // kling 500/5000, minimax 1024
};

std::string_view to_string(VendorFaultKind kind);
std::optional<VendorFaultKind> vendor_fault_kind(std::string_view name);

struct VendorRule {
  VendorFaultKind kind = VendorFaultKind::rate_limit;
  double rate = 1.0;  // after the first-N budget; 0 when only `first` was given
  int64_t first = 0;  // the first N creates always get it
};

// "KIND[:rate=P][:first=N]". An error names the part that is wrong.
std::expected<VendorRule, std::string> parse_vendor_rule(std::string_view spec);
std::expected<std::vector<VendorRule>, std::string> parse_vendor_rules(
    const std::vector<std::string>& specs);

}  // namespace sim
