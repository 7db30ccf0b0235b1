// The keys of vidbatch.toml and how each is checked (internal to the config
// module; the only header besides config.cpp that sees toml++ types).
// Checks are plain functions on values so that the file, the environment and
// the command line all validate the same way.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/config.h"

namespace vb {

// One problem; line 0 means it did not come from the file (then `origin`
// says where it came from, e.g. "--base-url").
struct ConfigProblem {
  int line = 0;
  int column = 0;
  std::string origin;
  std::string path;  // "limits.max_in_flight"
  std::string message;
};

// How one key is read from TOML: an error message, or nullopt once `config` holds the value.
using KeySetter = std::function<std::optional<std::string>(const toml::node&, Config&)>;

struct KeyRule {
  std::string_view section;
  std::string_view key;
  KeySetter set;
};

// The rule of `section.key`, or nullptr when there is no such key.
const KeyRule* find_rule(std::string_view section, std::string_view key);

// "unknown key 'x'" plus the likeliest intended key.
std::string unknown_key_message(std::string_view section, std::string_view key);

// A value as a message shows it: "\"text\"", 5, "an array"...
std::string describe(const toml::node& node);

void add_problem(std::vector<ConfigProblem>& problems, const toml::source_region& where,
                 std::string path, std::string message);

// [provider] and [providers.NAME] tables (provider_rules.cpp).
void apply_dialect_defaults(const toml::table& table, ProviderConfig& provider);
void apply_prices(const toml::table& table, PriceTable& prices, const std::string& prefix,
                  std::vector<ConfigProblem>& problems);
void apply_providers(const toml::table& table, Config& config,
                     std::vector<ConfigProblem>& problems);
// Every provider's auth scheme has the key variables (or files) it reads.
void check_provider_keys(const toml::table& root, const Config& config,
                         std::vector<ConfigProblem>& problems);

// Applies every key of `root` to `config`. Problems are appended; keys with
// bad values leave the previous value in place.
void apply_toml(const toml::table& root, Config& config, std::vector<ConfigProblem>& problems);

// Checks that need two keys (e.g. poll_interval_max_ms >= poll_interval_ms).
void check_consistency(const toml::table& root, const Config& config,
                       std::vector<ConfigProblem>& problems);

// Value checks shared with environment and flag overrides: an error message, or nullopt.
std::optional<std::string> check_base_url(const std::string& url);
std::optional<std::string> check_non_empty(const std::string& text);

// "https://x/v1/" -> "https://x/v1".
std::string strip_trailing_slashes(std::string url);

}  // namespace vb
