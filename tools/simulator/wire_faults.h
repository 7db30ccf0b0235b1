// Wire faults: what the fault proxy (fault_proxy.h) does to a request after forwarding it, as real
// networks and gateways do it (a reset before any byte of the answer, an HTML 502 from a proxy
// whose upstream already did the work, ...). This file holds the rules, their parsing (command
// line and JSON), the seeded decision per request, and the counters behind the proxy's stats.
// WireFaults is thread-safe: one mutex guards rules, PRNG, "first N" budgets and counters.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

enum class WireFaultKind {
  reset_keepalive,  // RST before any answer byte, only on the 2nd+ request of a connection
  reset,            // RST before any answer byte, on any request
  fin,              // clean close (FIN) before any answer byte
  stall,            // answer held for stall_ms, then RST
  gateway_502,      // nginx-style HTML 502 instead of the real answer
  gateway_504,      // nginx-style HTML 504
  gateway_52x,      // Cloudflare-style HTML 520-524 (the rule's status, 524 by default)
  upstream_500,     // new-api-style JSON 500 "do request failed ... connection reset by peer"
  partial           // status line and headers announce a body, cut after a few bytes (FIN)
};

std::string_view to_string(WireFaultKind kind);
std::optional<WireFaultKind> wire_fault_kind(std::string_view name);
const std::vector<WireFaultKind>& all_wire_fault_kinds();

// One rule: which requests (scope), how often (the first N always, then rate), what happens.
struct WireRule {
  WireFaultKind kind = WireFaultKind::reset;
  double rate = 1.0;           // after the first-N budget; 0 when only `first` was given
  int64_t first = 0;           // the first N eligible requests in scope
  std::string scope = "post";  // "post" (paid requests), "all", or a regex searched in the path
  int status = 524;            // gateway_52x only
  std::shared_ptr<const std::regex> path_regex;  // compiled scope when it is a regex
};

struct WireFaultConfig {
  std::vector<WireRule> rules;
  int64_t stall_ms = 30000;
};

// "KIND[:rate=P][:first=N][:status=S][:scope=post|all|REGEX]"; scope comes last and takes the rest
// of the text (a regex may contain ':'). An error names the part that is wrong.
std::expected<WireRule, std::string> parse_wire_rule(std::string_view spec);

// Reads {"faults":[{"kind":..,"rate":..,"first":..,"scope":..,"status":..}], "stall_ms":N} on top
// of `base` (keys absent keep their value). Other keys are ignored (they belong to the simulator).
std::expected<WireFaultConfig, std::string> wire_config_from_json(const rapidjson::Value& doc,
                                                                  WireFaultConfig base);

// What the proxy knows about a request when it decides.
struct WireRequest {
  std::string_view method;
  std::string_view path;            // without the query
  int64_t index_on_connection = 1;  // 1 = the first request on its client connection
};

class WireFaults {
 public:
  WireFaults(WireFaultConfig config, uint64_t seed);

  // One PRNG draw per request, whatever the rules, so a given request sequence always sees the
  // same faults. The first-N budgets of matching rules go first (in rule order), then the draw
  // picks at most one rule among the matching ones by their rates. Counts the firing.
  std::optional<WireRule> decide(const WireRequest& request);

  WireFaultConfig config() const;
  void set_config(WireFaultConfig config);  // restarts the first-N budgets
  void reseed(uint64_t seed);
  // Applies "faults", "stall_ms" and "seed" of a JSON object; nothing changes on an error, which
  // is returned (empty on success). `strict`: any other key is an error too.
  std::string update_from_json(const std::string& body, bool strict);

  // A request that faults may hit (not a /__ control route) was forwarded on that client
  // connection.
  void count_request(int64_t connection_id);
  void count_upstream_error();
  void reset_stats();

  std::string config_json() const;
  // {"connections","requests","fired":{kind:n},"requests_per_connection":{"n":connections},
  //  "max_requests_on_a_connection","upstream_errors"}; connections that carried such requests.
  std::string stats_json() const;

 private:
  mutable std::mutex m_mutex;
  WireFaultConfig m_config;
  std::vector<int64_t> m_first_used;  // per rule
  std::mt19937_64 m_rng;
  std::map<WireFaultKind, int64_t> m_fired;
  std::map<int64_t, int64_t> m_requests_on;  // connection id -> requests forwarded on it
  int64_t m_requests = 0;
  int64_t m_upstream_errors = 0;
};

}  // namespace sim
