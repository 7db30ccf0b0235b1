#include "wire_faults.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>

namespace sim {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

const std::map<WireFaultKind, std::string_view> k_wire_fault_names = {
    {WireFaultKind::reset_keepalive, "reset_keepalive"},
    {WireFaultKind::reset, "reset"},
    {WireFaultKind::fin, "fin"},
    {WireFaultKind::stall, "stall"},
    {WireFaultKind::gateway_502, "gateway_502"},
    {WireFaultKind::gateway_504, "gateway_504"},
    {WireFaultKind::gateway_52x, "gateway_52x"},
    {WireFaultKind::upstream_500, "upstream_500"},
    {WireFaultKind::partial, "partial"},
};

std::string kind_list() {
  std::string out;
  for (const auto& [kind, name] : k_wire_fault_names) {
    out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out;
}

// Compiles the scope when it is a regex; an error names the scope.
std::optional<std::string> finish_rule(WireRule& rule) {
  if (rule.kind == WireFaultKind::gateway_52x && (rule.status < 520 || rule.status > 524)) {
    return "status must be 520 to 524, got " + std::to_string(rule.status);
  }
  if (rule.kind != WireFaultKind::gateway_52x && rule.status != 524) {
    return "status= only goes with gateway_52x";
  }
  if (rule.scope.empty()) {
    return "scope is empty (post, all or a path regex)";
  }
  if (rule.scope == "post" || rule.scope == "all") {
    rule.path_regex.reset();
    return std::nullopt;
  }
  try {
    rule.path_regex = std::make_shared<const std::regex>(rule.scope, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return "scope '" + rule.scope + "' is not a valid regex (" + e.what() + ")";
  }
  return std::nullopt;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::expected<WireRule, std::string> rule_from_json(const rapidjson::Value& v) {
  if (!v.IsObject() || !v.HasMember("kind") || !v["kind"].IsString()) {
    return std::unexpected("each fault needs a \"kind\" (" + kind_list() + ")");
  }
  WireRule rule;
  const auto kind = wire_fault_kind(v["kind"].GetString());
  if (!kind) {
    return std::unexpected(std::string("unknown fault kind '") + v["kind"].GetString() + "' (" +
                           kind_list() + ")");
  }
  rule.kind = *kind;
  const bool has_rate = v.HasMember("rate");
  const bool has_first = v.HasMember("first");
  if (has_rate &&
      (!v["rate"].IsNumber() || v["rate"].GetDouble() < 0.0 || v["rate"].GetDouble() > 1.0)) {
    return std::unexpected("rate must be a number from 0 to 1");
  }
  if (has_first && (!v["first"].IsInt64() || v["first"].GetInt64() < 0)) {
    return std::unexpected("first must be a whole number of requests");
  }
  rule.first = has_first ? v["first"].GetInt64() : 0;
  rule.rate = has_rate ? v["rate"].GetDouble() : (has_first ? 0.0 : 1.0);
  if (v.HasMember("scope")) {
    if (!v["scope"].IsString()) {
      return std::unexpected("scope must be a string (post, all or a path regex)");
    }
    rule.scope = v["scope"].GetString();
  }
  if (v.HasMember("status")) {
    if (!v["status"].IsInt()) {
      return std::unexpected("status must be a whole number");
    }
    rule.status = v["status"].GetInt();
  }
  if (const auto error = finish_rule(rule)) {
    return std::unexpected(*error);
  }
  return rule;
}

bool in_scope(const WireRule& rule, const WireRequest& request) {
  if (rule.kind == WireFaultKind::reset_keepalive && request.index_on_connection < 2) {
    return false;
  }
  if (rule.path_regex) {
    return std::regex_search(request.path.begin(), request.path.end(), *rule.path_regex);
  }
  return rule.scope == "all" || request.method == "POST";
}

}  // namespace

std::string_view to_string(WireFaultKind kind) {
  return k_wire_fault_names.at(kind);
}

std::optional<WireFaultKind> wire_fault_kind(std::string_view name) {
  for (const auto& [kind, known] : k_wire_fault_names) {
    if (known == name) {
      return kind;
    }
  }
  return std::nullopt;
}

const std::vector<WireFaultKind>& all_wire_fault_kinds() {
  static const std::vector<WireFaultKind> kinds = [] {
    std::vector<WireFaultKind> out;
    for (const auto& entry : k_wire_fault_names) {
      out.push_back(entry.first);
    }
    return out;
  }();
  return kinds;
}

std::expected<WireRule, std::string> parse_wire_rule(std::string_view spec) {
  const auto colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const auto kind = wire_fault_kind(name);
  if (!kind) {
    return std::unexpected("--fault " + std::string(spec) + ": unknown kind '" + std::string(name) +
                           "' (" + kind_list() + ")");
  }
  WireRule rule;
  rule.kind = *kind;
  bool has_rate = false;
  std::string_view rest = colon == std::string_view::npos ? std::string_view()
                                                          : spec.substr(colon + 1);
  while (!rest.empty()) {
    if (rest.starts_with("scope=")) {
      rule.scope = std::string(rest.substr(6));
      break;
    }
    const auto next = rest.find(':');
    const std::string_view part = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    bool ok = false;
    if (part.starts_with("rate=")) {
      ok = parse_number(part.substr(5), rule.rate) && rule.rate >= 0.0 && rule.rate <= 1.0;
      has_rate = true;
    } else if (part.starts_with("first=")) {
      ok = parse_number(part.substr(6), rule.first) && rule.first >= 0;
    } else if (part.starts_with("status=")) {
      ok = parse_number(part.substr(7), rule.status);
    }
    if (!ok) {
      return std::unexpected(
          "--fault " + std::string(spec) + ": cannot read '" + std::string(part) +
          "' (expected rate=P with P from 0 to 1, first=N, status=S or scope=post|all|REGEX)");
    }
  }
  if (!has_rate && rule.first > 0) {
    rule.rate = 0.0;
  }
  if (const auto error = finish_rule(rule)) {
    return std::unexpected("--fault " + std::string(spec) + ": " + *error);
  }
  return rule;
}

std::expected<WireFaultConfig, std::string> wire_config_from_json(const rapidjson::Value& doc,
                                                                  WireFaultConfig base) {
  if (doc.HasMember("stall_ms")) {
    if (!doc["stall_ms"].IsInt64() || doc["stall_ms"].GetInt64() < 0) {
      return std::unexpected("stall_ms must be a whole number of milliseconds");
    }
    base.stall_ms = doc["stall_ms"].GetInt64();
  }
  if (doc.HasMember("faults")) {
    if (!doc["faults"].IsArray()) {
      return std::unexpected("faults must be an array of {kind, rate, first, scope, status}");
    }
    base.rules.clear();
    for (const auto& item : doc["faults"].GetArray()) {
      auto rule = rule_from_json(item);
      if (!rule) {
        return std::unexpected("faults[" + std::to_string(base.rules.size()) +
                               "]: " + rule.error());
      }
      base.rules.push_back(std::move(*rule));
    }
  }
  return base;
}

WireFaults::WireFaults(WireFaultConfig config, uint64_t seed)
    : m_config(std::move(config)), m_first_used(m_config.rules.size(), 0), m_rng(seed) {}

std::optional<WireRule> WireFaults::decide(const WireRequest& request) {
  std::lock_guard lock(m_mutex);
  const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
  const WireRule* chosen = nullptr;
  for (size_t i = 0; i < m_config.rules.size() && !chosen; ++i) {
    if (m_first_used[i] < m_config.rules[i].first && in_scope(m_config.rules[i], request)) {
      ++m_first_used[i];
      chosen = &m_config.rules[i];
    }
  }
  double bound = 0.0;
  for (size_t i = 0; i < m_config.rules.size() && !chosen; ++i) {
    if (in_scope(m_config.rules[i], request)) {
      bound += m_config.rules[i].rate;
      chosen = draw < bound ? &m_config.rules[i] : nullptr;
    }
  }
  if (!chosen) {
    return std::nullopt;
  }
  ++m_fired[chosen->kind];
  return *chosen;
}

WireFaultConfig WireFaults::config() const {
  std::lock_guard lock(m_mutex);
  return m_config;
}

void WireFaults::set_config(WireFaultConfig config) {
  std::lock_guard lock(m_mutex);
  m_config = std::move(config);
  m_first_used.assign(m_config.rules.size(), 0);
}

void WireFaults::reseed(uint64_t seed) {
  std::lock_guard lock(m_mutex);
  m_rng.seed(seed);
}

std::string WireFaults::update_from_json(const std::string& body, bool strict) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject()) {
    return "body must be a JSON object";
  }
  for (const auto& member : doc.GetObject()) {
    const std::string_view key = member.name.GetString();
    if (strict && key != "faults" && key != "stall_ms" && key != "seed") {
      return "unknown key '" + std::string(key) + "' (faults, stall_ms, seed)";
    }
  }
  if (doc.HasMember("seed") && !doc["seed"].IsUint64()) {
    return "seed must be a whole number";
  }
  auto next = wire_config_from_json(doc, config());
  if (!next) {
    return next.error();
  }
  std::lock_guard lock(m_mutex);
  m_config.stall_ms = next->stall_ms;
  if (doc.HasMember("faults")) {
    m_config.rules = std::move(next->rules);
    m_first_used.assign(m_config.rules.size(), 0);
  }
  if (doc.HasMember("seed")) {
    m_rng.seed(doc["seed"].GetUint64());
  }
  return {};
}

void WireFaults::count_request(int64_t connection_id) {
  std::lock_guard lock(m_mutex);
  ++m_requests;
  ++m_requests_on[connection_id];
}

void WireFaults::count_upstream_error() {
  std::lock_guard lock(m_mutex);
  ++m_upstream_errors;
}

void WireFaults::reset_stats() {
  std::lock_guard lock(m_mutex);
  m_fired.clear();
  m_requests_on.clear();
  m_requests = 0;
  m_upstream_errors = 0;
}

std::string WireFaults::config_json() const {
  const WireFaultConfig config = this->config();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("stall_ms");
  w.Int64(config.stall_ms);
  w.Key("faults");
  w.StartArray();
  for (const auto& rule : config.rules) {
    w.StartObject();
    w.Key("kind");
    w.String(to_string(rule.kind).data());
    w.Key("rate");
    w.Double(rule.rate);
    w.Key("first");
    w.Int64(rule.first);
    w.Key("scope");
    w.String(rule.scope.c_str());
    if (rule.kind == WireFaultKind::gateway_52x) {
      w.Key("status");
      w.Int(rule.status);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

std::string WireFaults::stats_json() const {
  std::lock_guard lock(m_mutex);
  std::map<int64_t, int64_t> histogram;  // requests on a connection -> connections
  int64_t most = 0;
  for (const auto& [id, count] : m_requests_on) {
    ++histogram[count];
    most = std::max(most, count);
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("connections");
  w.Int64(static_cast<int64_t>(m_requests_on.size()));
  w.Key("requests");
  w.Int64(m_requests);
  w.Key("fired");
  w.StartObject();
  for (const auto kind : all_wire_fault_kinds()) {
    w.Key(to_string(kind).data());
    w.Int64(m_fired.contains(kind) ? m_fired.at(kind) : 0);
  }
  w.EndObject();
  w.Key("requests_per_connection");
  w.StartObject();
  for (const auto& [requests, connections] : histogram) {
    w.Key(std::to_string(requests).c_str());
    w.Int64(connections);
  }
  w.EndObject();
  w.Key("max_requests_on_a_connection");
  w.Int64(most);
  w.Key("upstream_errors");
  w.Int64(m_upstream_errors);
  w.EndObject();
  return buffer.GetString();
}

}  // namespace sim
