#include "config/config_rules.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <expected>
#include <functional>

#include "util/text_util.h"

namespace vb {

namespace {

using Setter = KeySetter;

}  // namespace

std::string describe(const toml::node& node) {
  if (const auto* s = node.as_string()) {
    return std::string("\"").append(excerpt(s->get())).append("\"");
  }
  if (const auto* i = node.as_integer()) {
    return std::to_string(i->get());
  }
  if (const auto* f = node.as_floating_point()) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", f->get());
    return text;
  }
  if (const auto* b = node.as_boolean()) {
    return b->get() ? "true" : "false";
  }
  if (node.is_array()) {
    return "an array";
  }
  return node.is_table() ? "a table" : "a date or time";
}

namespace {

std::expected<long long, std::string> positive_integer(const toml::node& node, long long max) {
  const auto* value = node.as_integer();
  if (value == nullptr || value->get() < 1) {
    return std::unexpected("expected a positive integer, got " + describe(node));
  }
  if (value->get() > max) {
    return std::unexpected("must be at most " + std::to_string(max) + ", got " + describe(node));
  }
  return value->get();
}

template <typename Get>
Setter int_key(Get get) {
  return [get](const toml::node& node, Config& config) -> std::optional<std::string> {
    const auto value = positive_integer(node, INT_MAX);
    if (!value) {
      return value.error();
    }
    get(config) = static_cast<int>(*value);
    return std::nullopt;
  };
}

template <typename Get>
Setter millis_key(Get get) {
  return [get](const toml::node& node, Config& config) -> std::optional<std::string> {
    const auto value = positive_integer(node, LLONG_MAX);
    if (!value) {
      return value.error();
    }
    get(config) = *value;
    return std::nullopt;
  };
}

// A rate: integers and floats both welcome ("5" or "0.5").
template <typename Get>
Setter rate_key(Get get) {
  return [get](const toml::node& node, Config& config) -> std::optional<std::string> {
    const auto value = node.value<double>();
    const bool number = node.is_integer() || node.is_floating_point();
    if (!number || !value || !std::isfinite(*value) || *value <= 0) {
      return "expected a positive number, got " + describe(node);
    }
    get(config) = *value;
    return std::nullopt;
  };
}

// A rate, or "auto" (k_rate_auto): learnt while running.
template <typename Get>
Setter rate_or_auto_key(Get get) {
  return [get](const toml::node& node, Config& config) -> std::optional<std::string> {
    const auto value = node.value<double>();
    const bool number = node.is_integer() || node.is_floating_point();
    if (const auto* word = node.as_string(); word != nullptr && word->get() == "auto") {
      get(config) = k_rate_auto;
    } else if (number && value && std::isfinite(*value) && *value > 0) {
      get(config) = *value;
    } else {
      return "expected a positive number or \"auto\", got " + describe(node);
    }
    return std::nullopt;
  };
}

template <typename Get>
Setter bool_key(Get get) {
  return [get](const toml::node& node, Config& config) -> std::optional<std::string> {
    const auto* value = node.as_boolean();
    if (value == nullptr) {
      return "expected true or false, got " + describe(node);
    }
    get(config) = value->get();
    return std::nullopt;
  };
}

using StringCheck = std::function<std::optional<std::string>(const std::string&)>;

template <typename Get>
Setter string_key(Get get, StringCheck check) {
  return [get, check](const toml::node& node, Config& config) -> std::optional<std::string> {
    const auto* value = node.as_string();
    if (value == nullptr) {
      return "expected a string, got " + describe(node);
    }
    if (auto error = check(value->get())) {
      return error;
    }
    get(config) = value->get();
    return std::nullopt;
  };
}

StringCheck one_of(std::vector<std::string_view> choices) {
  return [choices](const std::string& text) -> std::optional<std::string> {
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) {
      return std::nullopt;
    }
    std::string message = "expected ";
    for (std::size_t i = 0; i < choices.size(); ++i) {
      message += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ");
      message.append("\"").append(choices[i]).append("\"");
    }
    message += ", got \"" + excerpt(text) + "\"";
    if (const auto match = closest_match(text, choices)) {
      message += " (did you mean \"" + *match + "\"?)";
    }
    return message;
  };
}

// A word of `words`, stored as its enum value; anything else is an error listing the words.
template <typename E, typename Get>
Setter enum_key(Get get, std::vector<std::pair<std::string_view, E>> words) {
  std::vector<std::string_view> names;
  for (const auto& [name, value] : words) {
    names.push_back(name);
  }
  return [get, words, names](const toml::node& node, Config& config) -> std::optional<std::string> {
    const auto* value = node.as_string();
    if (value == nullptr) {
      return "expected a string, got " + describe(node);
    }
    for (const auto& [name, e] : words) {
      if (value->get() == name) {
        get(config) = e;
        return std::nullopt;
      }
    }
    return one_of(names)(value->get());
  };
}

std::optional<std::string> check_env_name(const std::string& name) {
  const bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                     });
  if (valid) {
    return std::nullopt;
  }
  return "expected an environment variable name like OPENAI_API_KEY, got \"" + excerpt(name) + "\"";
}

// The layout becomes a path under output.root, so it must stay inside it.
std::optional<std::string> check_layout(const std::string& layout) {
  const std::string shown = " got \"" + excerpt(layout) + "\"";
  if (layout.find("{id}") == std::string::npos) {
    return "must contain {id} so that every job gets its own file," + shown;
  }
  if (layout.starts_with('/') || layout.starts_with('\\')) {
    return "must be a path relative to output.root," + shown;
  }
  std::size_t start = 0;
  while (start <= layout.size()) {
    const std::size_t end = std::min(layout.find_first_of("/\\", start), layout.size());
    if (layout.compare(start, end - start, "..") == 0) {
      return "must not contain '..' (files must stay under output.root)," + shown;
    }
    start = end + 1;
  }
  for (std::size_t open = layout.find('{'); open != std::string::npos;
       open = layout.find('{', open + 1)) {
    const std::size_t close = layout.find('}', open);
    const std::string name =
        layout.substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
    if (name != "batch" && name != "id") {
      std::string message = "unknown placeholder {" + excerpt(name) + "}";
      const auto match = closest_match(name, {"batch", "id"});
      message += match ? " (did you mean {" + *match + "}?)" : "; use {batch} and {id}";
      return message;
    }
  }
  return std::nullopt;
}

std::vector<std::pair<std::string_view, Dialect>> dialect_words() {
  std::vector<std::pair<std::string_view, Dialect>> words;
  for (const auto& d : dialect_defaults()) {
    words.emplace_back(d.name, d.dialect);
  }
  return words;
}

const std::vector<KeyRule>& rules() {
  static const std::vector<KeyRule> k_rules = {
      {"provider", "dialect",
       enum_key<Dialect>(
           [](Config & c) -> auto& { return c.provider.dialect; }, dialect_words())},
      {"provider", "auth",
       enum_key<AuthScheme>([](Config & c) -> auto& { return c.provider.auth; },
                            {{"bearer", AuthScheme::bearer},
                             {"kling-jwt", AuthScheme::kling_jwt},
                             {"token", AuthScheme::token}})},
      {"provider", "base_url",
       string_key(
           [](Config & c) -> auto& { return c.provider.base_url; }, check_base_url)},
      {"provider", "api_key_env",
       string_key(
           [](Config & c) -> auto& { return c.provider.api_key_env; }, check_env_name)},
      {"provider", "api_key_file",
       string_key(
           [](Config & c) -> auto& { return c.provider.api_key_file; }, check_non_empty)},
      {"provider", "access_key_env",
       string_key(
           [](Config & c) -> auto& { return c.provider.access_key_env; }, check_env_name)},
      {"provider", "access_key_file",
       string_key(
           [](Config & c) -> auto& { return c.provider.access_key_file; }, check_non_empty)},
      {"provider", "secret_key_env",
       string_key(
           [](Config & c) -> auto& { return c.provider.secret_key_env; }, check_env_name)},
      {"provider", "secret_key_file",
       string_key(
           [](Config & c) -> auto& { return c.provider.secret_key_file; }, check_non_empty)},
      {"limits", "max_in_flight",
       int_key([](Config & c) -> auto& { return c.limits.max_in_flight; })},
      {"limits", "submits_per_minute",
       rate_or_auto_key([](Config & c) -> auto& { return c.limits.submits_per_minute; })},
      {"limits", "polls_per_second",
       rate_key([](Config & c) -> auto& { return c.limits.polls_per_second; })},
      {"limits", "poll_interval_ms",
       millis_key([](Config & c) -> auto& { return c.limits.poll_interval_ms; })},
      {"limits", "poll_interval_max_ms",
       millis_key([](Config & c) -> auto& { return c.limits.poll_interval_max_ms; })},
      {"limits", "max_downloads",
       int_key([](Config & c) -> auto& { return c.limits.max_downloads; })},
      {"limits", "poll_by_listing",
       bool_key([](Config & c) -> auto& { return c.limits.poll_by_listing; })},
      {"retry", "submit_attempts",
       int_key([](Config & c) -> auto& { return c.retry.submit_attempts; })},
      {"retry", "poll_attempts",
       int_key([](Config & c) -> auto& { return c.retry.poll_attempts; })},
      {"retry", "download_attempts",
       int_key([](Config & c) -> auto& { return c.retry.download_attempts; })},
      {"retry", "base_delay_ms",
       millis_key([](Config & c) -> auto& { return c.retry.base_delay_ms; })},
      {"retry", "max_delay_ms",
       millis_key([](Config & c) -> auto& { return c.retry.max_delay_ms; })},
      {"retry", "give_up_after_ms",
       millis_key([](Config & c) -> auto& { return c.retry.give_up_after_ms; })},
      {"limits", "job_timeout_ms",
       millis_key([](Config & c) -> auto& { return c.limits.job_timeout_ms; })},
      {"limits", "on_job_timeout",
       enum_key<JobTimeoutAction>([](Config & c) -> auto& { return c.limits.on_job_timeout; },
                                  {{"fail", JobTimeoutAction::fail},
                                   {"poll", JobTimeoutAction::poll}})},
      {"retry", "ambiguous_settle_ms",
       millis_key([](Config & c) -> auto& { return c.retry.ambiguous_settle_ms; })},
      {"retry", "ambiguous_policy",
       enum_key<AmbiguousPolicy>([](Config & c) -> auto& { return c.retry.ambiguous_policy; },
                                 {{"hold", AmbiguousPolicy::hold},
                                  {"resubmit", AmbiguousPolicy::resubmit},
                                  {"fail", AmbiguousPolicy::fail}})},
      {"output", "root",
       string_key(
           [](Config & c) -> auto& { return c.output.root; }, check_non_empty)},
      {"output", "layout",
       string_key(
           [](Config & c) -> auto& { return c.output.layout; }, check_layout)},
      {"output", "thumbnails", bool_key([](Config & c) -> auto& { return c.output.thumbnails; })},
      {"output", "sidecars", bool_key([](Config & c) -> auto& { return c.output.sidecars; })},
      {"output", "checksum",
       enum_key<Checksum>([](Config & c) -> auto& { return c.output.checksum; },
                          {{"sha256", Checksum::sha256}, {"none", Checksum::none}})},
      {"output", "verify",
       enum_key<VideoVerify>([](Config & c) -> auto& { return c.output.verify; },
                             {{"off", VideoVerify::off},
                              {"warn", VideoVerify::warn},
                              {"fail", VideoVerify::fail}})},
      {"http", "connect_timeout_ms",
       millis_key([](Config & c) -> auto& { return c.http.connect_timeout_ms; })},
      {"http", "request_timeout_ms",
       millis_key([](Config & c) -> auto& { return c.http.request_timeout_ms; })},
      {"http", "download_timeout_ms",
       millis_key([](Config & c) -> auto& { return c.http.download_timeout_ms; })},
      {"http", "low_speed_time_ms",
       millis_key([](Config & c) -> auto& { return c.http.low_speed_time_ms; })},
      {"limits", "budget_usd", rate_key([](Config & c) -> auto& { return c.budget_usd; })},
      {"store", "path",
       string_key(
           [](Config & c) -> auto& { return c.db_path; }, check_non_empty)},
      {"store", "sync",
       enum_key<StoreSync>([](Config & c) -> auto& { return c.sync; },
                           {{"off", StoreSync::off},
                            {"normal", StoreSync::normal},
                            {"full", StoreSync::full}})},
      {"store", "worker_ttl_ms", millis_key([](Config & c) -> auto& { return c.worker_ttl_ms; })},
  };
  return k_rules;
}

const std::vector<std::string_view> k_sections = {"provider", "providers", "limits", "retry",
                                                  "output",   "http",      "store",  "prices"};

}  // namespace

void add_problem(std::vector<ConfigProblem>& problems, const toml::source_region& where,
                 std::string path, std::string message) {
  problems.push_back({static_cast<int>(where.begin.line), static_cast<int>(where.begin.column), "",
                      std::move(path), std::move(message)});
}

// "unknown key 'x'" plus the likeliest intended key: a near miss in the same
// section, else the same key in another section ("limits.max_in_flight").
std::string unknown_key_message(std::string_view section, std::string_view key) {
  std::vector<std::string_view> same_section;
  std::string elsewhere;
  for (const auto& rule : rules()) {
    if (rule.section == section) {
      same_section.push_back(rule.key);
    } else if (rule.key == key) {
      elsewhere = std::string(rule.section) + "." + std::string(rule.key);
    }
  }
  std::string message = "unknown key '" + excerpt(key) + "'";
  const auto match = closest_match(key, same_section);
  if (match || !elsewhere.empty()) {
    return message + " (did you mean '" + (match ? *match : elsewhere) + "'?)";
  }
  if (section.empty()) {
    return message + "; settings belong in a section such as [limits]";
  }
  message += "; expected one of:";
  for (const auto name : same_section) {
    message += (message.ends_with(":") ? " " : ", ") + std::string(name);
  }
  return message;
}

namespace {

void apply_section(std::string_view section, const toml::table& table, Config& config,
                   std::vector<ConfigProblem>& problems) {
  for (auto&& [key, node] : table) {
    const std::string path = std::string(section) + "." + std::string(key.str());
    const auto& all = rules();
    // A copy, not the structured binding: clang before 16 cannot capture bindings (fuzz build).
    const std::string_view name = key.str();
    const auto rule = std::find_if(all.begin(), all.end(), [&](const KeyRule& r) {
      return r.section == section && r.key == name;
    });
    if (rule == all.end()) {
      add_problem(problems, key.source(), path, unknown_key_message(section, key.str()));
    } else if (auto error = rule->set(node, config)) {
      add_problem(problems, node.source(), path, std::move(*error));
    }
  }
}

}  // namespace

const KeyRule* find_rule(std::string_view section, std::string_view key) {
  const auto& all = rules();
  const auto rule = std::find_if(all.begin(), all.end(), [&](const KeyRule& r) {
    return r.section == section && r.key == key;
  });
  return rule == all.end() ? nullptr : &*rule;
}

namespace {

const toml::node* find(const toml::table& root, std::string_view section, std::string_view key) {
  const auto* table = root.get_as<toml::table>(section);
  return table == nullptr ? nullptr : table->get(key);
}

// Reports `low` > `high` at whichever of the two keys the file sets.
void check_order(const toml::table& root, std::string_view section, std::string_view low_key,
                 long long low, std::string_view high_key, long long high,
                 std::vector<ConfigProblem>& problems) {
  if (low <= high) {
    return;
  }
  const auto* high_node = find(root, section, high_key);
  const auto* node = high_node != nullptr ? high_node : find(root, section, low_key);
  const std::string s(section);
  const std::string message = "must be at least " + s + "." + std::string(low_key) + " (" +
                              std::to_string(low) + "), got " + std::to_string(high);
  if (node != nullptr) {
    add_problem(problems, node->source(), s + "." + std::string(high_key), message);
  }
}

}  // namespace

void apply_toml(const toml::table& root, Config& config, std::vector<ConfigProblem>& problems) {
  for (auto&& [key, node] : root) {
    const std::string name(key.str());
    const bool known = std::find(k_sections.begin(), k_sections.end(), name) != k_sections.end();
    if (!known && !node.is_table()) {
      add_problem(problems, key.source(), name, unknown_key_message("", name));
    } else if (!known) {
      const auto match = closest_match(name, k_sections);
      std::string message = "unknown section [" + excerpt(name) + "]";
      message += match ? " (did you mean [" + *match + "]?)"
                       : "; expected [provider], [providers.NAME], [limits], [retry], [output], "
                         "[http], [store] or [prices]";
      add_problem(problems, key.source(), name, std::move(message));
    } else if (!node.is_table()) {
      add_problem(problems, node.source(), name,
                  "expected a table [" + name + "], got " + describe(node));
    } else if (name == "prices") {
      apply_prices(*node.as_table(), config.prices, "prices", problems);
    } else if (name == "providers") {
      apply_providers(*node.as_table(), config, problems);
    } else {
      apply_section(name, *node.as_table(), config, problems);
      if (name == "provider") {
        apply_dialect_defaults(*node.as_table(), config.provider);
      }
    }
  }
}

void check_consistency(const toml::table& root, const Config& config,
                       std::vector<ConfigProblem>& problems) {
  check_provider_keys(root, config, problems);
  check_order(root, "limits", "poll_interval_ms", config.limits.poll_interval_ms,
              "poll_interval_max_ms", config.limits.poll_interval_max_ms, problems);
  check_order(root, "retry", "base_delay_ms", config.retry.base_delay_ms, "max_delay_ms",
              config.retry.max_delay_ms, problems);
  if (config.find_provider(config.default_provider) == nullptr) {
    const toml::node* node = find(root, "providers", "default");
    std::string message = "no provider named \"" + excerpt(config.default_provider) +
                          "\"; expected \"default\" (the [provider] table)";
    for (const auto& p : config.providers) {
      message += " or \"" + p.name + "\"";
    }
    add_problem(problems, node != nullptr ? node->source() : toml::source_region{},
                "providers.default", std::move(message));
  }
}

std::optional<std::string> check_base_url(const std::string& url) {
  const bool has_scheme = url.starts_with("http://") || url.starts_with("https://");
  if (has_scheme && url.find_first_not_of('/', url.find("//") + 2) != std::string::npos) {
    return std::nullopt;
  }
  return "expected a URL starting with http:// or https://, got \"" + excerpt(url) + "\"";
}

std::optional<std::string> check_non_empty(const std::string& text) {
  if (text.empty()) {
    return "must not be empty";
  }
  return std::nullopt;
}

std::string strip_trailing_slashes(std::string url) {
  while (url.ends_with('/') && !url.ends_with("://")) {
    url.pop_back();
  }
  return url;
}

}  // namespace vb
