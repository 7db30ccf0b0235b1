#include "faults.h"

#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sim {

namespace {

constexpr int64_t k_rpm_window_ms = 60000;
constexpr uint64_t k_vendor_seed_salt = 0x76656e646f72ULL;  // "vendor"

bool set_rate(const rapidjson::Value& v, double& out) {
  if (!v.IsNumber() || v.GetDouble() < 0.0 || v.GetDouble() > 1.0) {
    return false;
  }
  out = v.GetDouble();
  return true;
}

bool set_count(const rapidjson::Value& v, int64_t& out) {
  if (!v.IsInt64() || v.GetInt64() < 0) {
    return false;
  }
  out = v.GetInt64();
  return true;
}

}  // namespace

FaultInjector::FaultInjector(const FaultConfig& config, uint64_t seed)
    : m_config(config),
      m_rng(seed),
      m_vendor_rules(parse_vendor_rules(config.vendor_faults).value()),
      m_vendor_first_used(m_vendor_rules.size(), 0),
      m_vendor_rng(seed ^ k_vendor_seed_salt) {}

FaultConfig FaultInjector::config() const {
  std::lock_guard lock(m_mutex);
  return m_config;
}

Dice FaultInjector::roll() {
  std::lock_guard lock(m_mutex);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  Dice dice;
  // Always four draws, whatever the rates, so the sequence does not depend on the knobs.
  dice.fail_429 = unit(m_rng) < m_config.rate_429;
  dice.fail_500 = unit(m_rng) < m_config.rate_500;
  dice.drop = unit(m_rng) < m_config.rate_drop;
  dice.lose_create = unit(m_rng) < m_config.rate_lost_create;
  return dice;
}

bool FaultInjector::take_lost_create(bool dice_says_lose) {
  std::lock_guard lock(m_mutex);
  if (m_lost_used < m_config.lose_create_answers) {
    ++m_lost_used;
    return true;
  }
  return dice_says_lose;
}

bool FaultInjector::take_dropped_create() {
  std::lock_guard lock(m_mutex);
  if (m_dropped_creates < m_config.drop_creates) {
    ++m_dropped_creates;
    return true;
  }
  return false;
}

bool FaultInjector::take_truncate() {
  std::lock_guard lock(m_mutex);
  if (m_truncate_used < m_config.truncate_downloads) {
    ++m_truncate_used;
    return true;
  }
  return false;
}

bool FaultInjector::admit_create(int64_t now) {
  std::lock_guard lock(m_mutex);
  while (!m_create_times.empty() && m_create_times.front() <= now - k_rpm_window_ms) {
    m_create_times.pop_front();
  }
  if (m_config.rpm > 0 && static_cast<int64_t>(m_create_times.size()) >= m_config.rpm) {
    return false;
  }
  m_create_times.push_back(now);
  return true;
}

std::optional<FaultInjector::RpmBudget> FaultInjector::rpm_budget(int64_t now) {
  std::lock_guard lock(m_mutex);
  if (m_config.rpm <= 0) {
    return std::nullopt;
  }
  while (!m_create_times.empty() && m_create_times.front() <= now - k_rpm_window_ms) {
    m_create_times.pop_front();
  }
  const auto used = static_cast<int64_t>(m_create_times.size());
  return RpmBudget{m_config.rpm, std::max<int64_t>(0, m_config.rpm - used),
                   m_create_times.empty() ? 0 : m_create_times.front() + k_rpm_window_ms - now};
}

std::optional<VendorFaultKind> FaultInjector::take_vendor_fault() {
  std::lock_guard lock(m_mutex);
  const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(m_vendor_rng);
  for (size_t i = 0; i < m_vendor_rules.size(); ++i) {
    if (m_vendor_first_used[i] < m_vendor_rules[i].first) {
      ++m_vendor_first_used[i];
      return m_vendor_rules[i].kind;
    }
  }
  double bound = 0.0;
  for (const auto& rule : m_vendor_rules) {
    bound += rule.rate;
    if (draw < bound) {
      return rule.kind;
    }
  }
  return std::nullopt;
}

std::string FaultInjector::update_from_json(const std::string& body) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str()).HasParseError() || !doc.IsObject()) {
    return "body must be a JSON object";
  }
  std::lock_guard lock(m_mutex);
  FaultConfig next = m_config;
  std::optional<std::vector<VendorRule>> vendor_rules;
  for (const auto& member : doc.GetObject()) {
    const std::string key = member.name.GetString();
    const auto& v = member.value;
    bool ok = true;
    if (key == "rate_429") {
      ok = set_rate(v, next.rate_429);
    } else if (key == "rate_500") {
      ok = set_rate(v, next.rate_500);
    } else if (key == "rate_drop") {
      ok = set_rate(v, next.rate_drop);
    } else if (key == "rate_lost_create") {
      ok = set_rate(v, next.rate_lost_create);
    } else if (key == "drop_creates") {
      ok = set_count(v, next.drop_creates);
      m_dropped_creates = 0;
    } else if (key == "lose_create_answers") {
      ok = set_count(v, next.lose_create_answers);
      m_lost_used = 0;
    } else if (key == "truncate_downloads") {
      ok = set_count(v, next.truncate_downloads);
      m_truncate_used = 0;
    } else if (key == "latency_ms") {
      ok = set_count(v, next.latency_ms);
    } else if (key == "retry_after_ms") {
      ok = set_count(v, next.retry_after_ms);
    } else if (key == "rpm") {
      ok = set_count(v, next.rpm);
    } else if (key == "max_in_flight") {
      ok = set_count(v, next.max_in_flight);
    } else if (key == "lost_answer_delay_ms") {
      ok = set_count(v, next.lost_answer_delay_ms);
    } else if (key == "lost_answer_mode") {
      ok = v.IsString() &&
           (v.GetString() == std::string("abort") || v.GetString() == std::string("delay"));
      if (ok) {
        next.lost_answer_mode = v.GetString();
      }
    } else if (key == "vendor_faults") {
      ok = v.IsArray();
      next.vendor_faults.clear();
      for (rapidjson::SizeType i = 0; ok && i < v.Size(); ++i) {
        ok = v[i].IsString();
        if (ok) {
          next.vendor_faults.emplace_back(v[i].GetString());
        }
      }
      if (ok) {
        auto rules = parse_vendor_rules(next.vendor_faults);
        if (!rules) {
          return rules.error();
        }
        vendor_rules = std::move(*rules);
      }
    } else if (key == "seed") {
      ok = v.IsUint64();
      if (ok) {
        m_rng.seed(v.GetUint64());
        m_vendor_rng.seed(v.GetUint64() ^ k_vendor_seed_salt);
      }
    } else {
      return "unknown fault knob '" + key + "'";
    }
    if (!ok) {
      return "bad value for '" + key + "'";
    }
  }
  m_config = next;
  if (vendor_rules) {
    m_vendor_rules = std::move(*vendor_rules);
    m_vendor_first_used.assign(m_vendor_rules.size(), 0);
  }
  return {};
}

std::string FaultInjector::config_json() const {
  const FaultConfig c = config();
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("rate_429");
  w.Double(c.rate_429);
  w.Key("rate_500");
  w.Double(c.rate_500);
  w.Key("rate_drop");
  w.Double(c.rate_drop);
  w.Key("rate_lost_create");
  w.Double(c.rate_lost_create);
  w.Key("lose_create_answers");
  w.Int64(c.lose_create_answers);
  w.Key("drop_creates");
  w.Int64(c.drop_creates);
  w.Key("truncate_downloads");
  w.Int64(c.truncate_downloads);
  w.Key("latency_ms");
  w.Int64(c.latency_ms);
  w.Key("retry_after_ms");
  w.Int64(c.retry_after_ms);
  w.Key("rpm");
  w.Int64(c.rpm);
  w.Key("max_in_flight");
  w.Int64(c.max_in_flight);
  w.Key("lost_answer_delay_ms");
  w.Int64(c.lost_answer_delay_ms);
  w.Key("lost_answer_mode");
  w.String(c.lost_answer_mode.c_str());
  w.Key("vendor_faults");
  w.StartArray();
  for (const auto& spec : c.vendor_faults) {
    w.String(spec.c_str());
  }
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

}  // namespace sim
