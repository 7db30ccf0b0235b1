// The keys of vidbatch.toml and how each is checked (internal to the config
// module; the only header besides config.cpp that sees toml++ types).
// Checks are plain functions on values so that the file, the environment and
// the command line all validate the same way.
#pragma once

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
  std::string path;      // "limits.max_in_flight"
  std::string message;
};

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
