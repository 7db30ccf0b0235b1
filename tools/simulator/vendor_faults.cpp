#include "vendor_faults.h"

#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>

namespace sim {

namespace {

constexpr std::array<std::pair<VendorFaultKind, std::string_view>, 6> k_names = {{
    {VendorFaultKind::rate_limit, "rate_limit"},
    {VendorFaultKind::concurrency, "concurrency"},
    {VendorFaultKind::balance, "balance"},
    {VendorFaultKind::sensitive, "sensitive"},
    {VendorFaultKind::invalid, "invalid"},
    {VendorFaultKind::server, "server"},
}};

}  // namespace

std::string_view to_string(VendorFaultKind kind) {
  for (const auto& [k, name] : k_names) {
    if (k == kind) {
      return name;
    }
  }
  return "rate_limit";
}

std::optional<VendorFaultKind> vendor_fault_kind(std::string_view name) {
  for (const auto& [kind, n] : k_names) {
    if (n == name) {
      return kind;
    }
  }
  return std::nullopt;
}

std::expected<VendorRule, std::string> parse_vendor_rule(std::string_view spec) {
  const auto colon = spec.find(':');
  const auto kind = vendor_fault_kind(spec.substr(0, colon));
  if (!kind) {
    return std::unexpected("unknown vendor fault '" + std::string(spec.substr(0, colon)) +
                           "' (rate_limit, concurrency, balance, sensitive, invalid, server)");
  }
  VendorRule rule{*kind, 1.0, 0};
  bool rate_given = false;
  std::string_view rest = colon == std::string_view::npos ? std::string_view()
                                                          : spec.substr(colon + 1);
  while (!rest.empty()) {
    const auto next = rest.find(':');
    const std::string_view part = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    if (part.starts_with("rate=")) {
      const std::string text(part.substr(5));
      char* end = nullptr;
      rule.rate = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || rule.rate < 0.0 || rule.rate > 1.0) {
        return std::unexpected("bad rate in '" + std::string(part) + "' (a probability 0..1)");
      }
      rate_given = true;
    } else if (part.starts_with("first=")) {
      const std::string_view text = part.substr(6);
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), rule.first);
      if (ec != std::errc() || ptr != text.data() + text.size() || rule.first < 0) {
        return std::unexpected("bad count in '" + std::string(part) + "'");
      }
    } else {
      return std::unexpected("unknown part '" + std::string(part) + "' (rate=P, first=N)");
    }
  }
  if (rule.first > 0 && !rate_given) {
    rule.rate = 0.0;
  }
  return rule;
}

std::expected<std::vector<VendorRule>, std::string> parse_vendor_rules(
    const std::vector<std::string>& specs) {
  std::vector<VendorRule> rules;
  for (const auto& spec : specs) {
    auto rule = parse_vendor_rule(spec);
    if (!rule) {
      return std::unexpected(rule.error());
    }
    rules.push_back(*rule);
  }
  return rules;
}

}  // namespace sim
