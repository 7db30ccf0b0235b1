// The [providers] section and what every provider table needs: its dialect's
// defaults, its limits and prices, and the key variables its auth scheme reads.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "config/config_rules.h"
#include "util/text_util.h"

namespace vb {

namespace {

// The [limits] keys a [providers.NAME] table may set for itself.
const std::vector<std::string_view> k_provider_limits = {"max_in_flight", "submits_per_minute",
                                                         "polls_per_second"};

bool valid_provider_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// One [providers.NAME] table: the [provider] keys, the per-provider limits and
// a prices table. Values are checked by the same rules, on a scratch Config.
void apply_provider_table(const std::string& name, const toml::table& table, Config& config,
                          std::vector<ConfigProblem>& problems) {
  Config scratch;
  scratch.provider.name = name;
  for (auto&& [key, node] : table) {
    const std::string k(key.str());
    const std::string path = "providers." + name + "." + k;
    const bool limit = std::find(k_provider_limits.begin(), k_provider_limits.end(), k) !=
                       k_provider_limits.end();
    if (k == "prices" && node.is_table()) {
      apply_prices(*node.as_table(), scratch.provider.prices, path, problems);
      continue;
    }
    const KeyRule* rule = find_rule(limit ? "limits" : "provider", k);
    if (rule == nullptr) {
      std::string message = unknown_key_message("provider", k);
      if (!message.ends_with("?)")) {
        message += ", max_in_flight, submits_per_minute, polls_per_second, prices";
      }
      add_problem(problems, key.source(), path, std::move(message));
      continue;
    }
    if (auto error = rule->set(node, scratch)) {
      add_problem(problems, node.source(), path, std::move(*error));
    } else if (k == "max_in_flight") {
      scratch.provider.max_in_flight = scratch.limits.max_in_flight;
    } else if (k == "submits_per_minute") {
      scratch.provider.submits_per_minute = scratch.limits.submits_per_minute;
    } else if (k == "polls_per_second") {
      scratch.provider.polls_per_second = scratch.limits.polls_per_second;
    }
  }
  apply_dialect_defaults(table, scratch.provider);
  config.providers.push_back(std::move(scratch.provider));
}

}  // namespace

// [providers]: `default = "NAME"` and one sub-table per provider, kept in file order.
void apply_providers(const toml::table& table, Config& config,
                     std::vector<ConfigProblem>& problems) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, node] : table) {
    entries.emplace_back(&key, &node);
  }
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first->source().begin.line < b.first->source().begin.line;
  });
  for (const auto& [key, node] : entries) {
    const std::string name(key->str());
    const std::string path = "providers." + name;
    if (name == "default" && node->is_string()) {
      config.default_provider = node->as_string()->get();
    } else if (name == "default") {
      add_problem(problems, node->source(), path,
                  "expected the name of the default provider, got " + describe(*node));
    } else if (!node->is_table()) {
      add_problem(problems, node->source(), path,
                  "expected a table [providers." + excerpt(name) + "], got " + describe(*node));
    } else if (!valid_provider_name(name)) {
      add_problem(problems, key->source(), path,
                  "a provider name is 1 to 64 letters, digits, '_' or '-', got \"" + excerpt(name) +
                      "\"");
    } else {
      apply_provider_table(name, *node->as_table(), config, problems);
    }
  }
}

namespace {

// The key variables (or files) the provider's auth scheme reads must be named: a dialect
// without a default variable (a gateway's key for Kling) names none until the table does. A
// dialect without a default address (chat) needs the table's base_url too.
void check_one_provider_keys(const toml::table& root, const ProviderConfig& p,
                             std::vector<ConfigProblem>& problems) {
  const std::string table = p.name == "default" ? "provider" : "providers." + p.name;
  const toml::node* node = p.name == "default" ? root.get("provider")
                           : root.at_path("providers").as_table() == nullptr
                               ? nullptr
                               : root.at_path("providers").as_table()->get(p.name);
  const toml::table* t = node == nullptr ? nullptr : node->as_table();
  const toml::node* at = t == nullptr                ? node
                         : t->get("auth") != nullptr ? t->get("auth")
                                                     : t->get("dialect");
  const auto missing = [&](std::string_view env_key, const std::string& env,
                           std::string_view file_key, const std::string& file) {
    if (env.empty() && file.empty()) {
      add_problem(problems, at != nullptr ? at->source() : toml::source_region{},
                  table + "." + std::string(env_key),
                  "auth = \"" + std::string(to_string(p.auth)) + "\" with dialect \"" +
                      to_string(p.dialect) + "\" needs " + std::string(env_key) + " (or " +
                      std::string(file_key) + "): the variable holding the key");
    }
  };
  if (p.base_url.empty()) {
    add_problem(problems, at != nullptr ? at->source() : toml::source_region{}, table + ".base_url",
                "dialect \"" + std::string(to_string(p.dialect)) +
                    "\" is a gateway's route with no address of its own: set base_url to the "
                    "gateway's, up to /v1 (e.g. \"https://gateway.example/v1\")");
  }
  if (p.auth == AuthScheme::kling_jwt) {
    missing("access_key_env", p.access_key_env, "access_key_file", p.access_key_file);
    missing("secret_key_env", p.secret_key_env, "secret_key_file", p.secret_key_file);
  } else {
    missing("api_key_env", p.api_key_env, "api_key_file", p.api_key_file);
  }
}

}  // namespace

void check_provider_keys(const toml::table& root, const Config& config,
                         std::vector<ConfigProblem>& problems) {
  check_one_provider_keys(root, config.provider, problems);
  for (const auto& p : config.providers) {
    check_one_provider_keys(root, p, problems);
  }
}

// A provider table gets its dialect's defaults for the keys it leaves out.
void apply_dialect_defaults(const toml::table& table, ProviderConfig& provider) {
  const DialectDefaults& d = defaults_of(provider.dialect);
  const auto fill = [&table](std::string_view key, auto& field, auto value) {
    if (!table.contains(key)) {
      field = value;
    }
  };
  fill("base_url", provider.base_url, std::string(d.base_url));
  fill("auth", provider.auth, d.auth);
  fill("api_key_env", provider.api_key_env, std::string(d.api_key_env));
  fill("access_key_env", provider.access_key_env, std::string(d.access_key_env));
  fill("secret_key_env", provider.secret_key_env, std::string(d.secret_key_env));
}

// [prices.MODEL] "WxH" = USD per second; entries add to or replace the defaults.
// `prefix` is where the table sits ("prices", "providers.veo.prices").
void apply_prices(const toml::table& table, PriceTable& prices, const std::string& prefix,
                  std::vector<ConfigProblem>& problems) {
  for (auto&& [model, node] : table) {
    const std::string path = prefix + "." + std::string(model.str());
    const auto* sizes = node.as_table();
    if (sizes == nullptr) {
      add_problem(problems, node.source(), path,
                  "expected a table of sizes, e.g. [" + prefix + "." + excerpt(model.str()) +
                      "] \"1280x720\" = 0.10, got " + describe(node));
      continue;
    }
    for (auto&& [size, price] : *sizes) {
      const auto value = price.value<double>();
      const bool number = price.is_integer() || price.is_floating_point();
      if (!number || !value || !std::isfinite(*value) || *value < 0) {
        add_problem(problems, price.source(), path + "." + std::string(size.str()),
                    "expected USD per second of video (a number >= 0), got " + describe(price));
        continue;
      }
      prices.usd_per_second[std::string(model.str())][std::string(size.str())] = *value;
    }
  }
}

}  // namespace vb
