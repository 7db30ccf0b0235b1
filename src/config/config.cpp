#include "config/config.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <toml++/toml.h>

#include "config/config_rules.h"
#include "util/text_util.h"

namespace vb {

namespace {

// A config file is a few hundred bytes; anything this big is the wrong file.
constexpr std::uintmax_t k_max_config_bytes = 1024 * 1024;
constexpr const char* k_default_config = "vidbatch.toml";

// One line per problem: "file:line:col: path: message", source line, caret.
// toml++ tables iterate in key order, so sort back into file order.
std::string render(std::vector<ConfigProblem> problems, const std::string& file,
                   std::string_view text) {
  std::stable_sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  const LineIndex lines(text);
  std::string out;
  for (const auto& p : problems) {
    const std::string where =
        p.line > 0 ? file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column)
                   : p.origin;
    const std::string source = p.line > 0 ? lines.line_text(p.line) : "";
    out.append(out.empty() ? "" : "\n");
    out += render_diagnostic(where, p.path, p.message, source, p.column);
  }
  return out;
}

Result<std::string> read_config_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return fail(ErrorCode::io, "is not a regular file", path);
  }
  if (fs::file_size(path, ec) > k_max_config_bytes) {
    return fail(ErrorCode::invalid_input, "config file is larger than 1 MiB", path);
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return fail(ErrorCode::io, "cannot read the config file", path);
  }
  return std::move(text).str();
}

// Environment layer: OPENAI_BASE_URL only. An empty variable counts as unset.
void apply_env(const EnvLookup& env, Config& config, std::vector<ConfigProblem>& problems) {
  const auto base_url = env("OPENAI_BASE_URL");
  if (!base_url || base_url->empty()) {
    return;
  }
  if (auto error = check_base_url(*base_url)) {
    problems.push_back(
        {0, 0, "environment variable OPENAI_BASE_URL", "provider.base_url", std::move(*error)});
    return;
  }
  config.provider.base_url = *base_url;
}

void apply_string_flag(const std::optional<std::string>& flag, const char* name, const char* path,
                       std::string& target, std::vector<ConfigProblem>& problems) {
  if (!flag) {
    return;
  }
  const auto error = std::string(path) == "provider.base_url" ? check_base_url(*flag)
                                                              : check_non_empty(*flag);
  if (error) {
    problems.push_back({0, 0, name, path, *error});
    return;
  }
  target = *flag;
}

void apply_flags(const ConfigOverrides& flags, Config& config,
                 std::vector<ConfigProblem>& problems) {
  apply_string_flag(flags.base_url, "--base-url", "provider.base_url", config.provider.base_url,
                    problems);
  apply_string_flag(flags.out_dir, "--out", "output.root", config.output.root, problems);
  apply_string_flag(flags.db_path, "--db", "store.path", config.db_path, problems);
  if (flags.budget_usd) {
    if (!std::isfinite(*flags.budget_usd) || *flags.budget_usd <= 0) {
      problems.push_back(
          {0, 0, "--budget", "limits.budget_usd",
           "expected a positive number of USD, got " + std::to_string(*flags.budget_usd)});
    } else {
      config.budget_usd = flags.budget_usd;
    }
  }
  if (flags.concurrency) {
    if (*flags.concurrency < 1) {
      problems.push_back(
          {0, 0, "--concurrency", "limits.max_in_flight",
           "expected a positive integer, got " + std::to_string(*flags.concurrency)});
    } else {
      config.limits.max_in_flight = *flags.concurrency;
      for (auto& provider : config.providers) {
        provider.max_in_flight.reset();  // the flag beats every file value
      }
    }
  }
}

// Which file to read: --config (must exist), else ./vidbatch.toml if present.
Result<std::optional<std::string>> choose_config_file(const ConfigOverrides& overrides) {
  std::error_code ec;
  if (overrides.config_path) {
    if (!std::filesystem::exists(*overrides.config_path, ec)) {
      return fail(ErrorCode::not_found, "config file given with --config does not exist",
                  *overrides.config_path);
    }
    return overrides.config_path;
  }
  if (std::filesystem::exists(k_default_config, ec)) {
    return std::optional<std::string>(k_default_config);
  }
  return std::optional<std::string>();
}

void tidy_provider(ProviderConfig& provider, const std::string& file_name) {
  provider.base_url = strip_trailing_slashes(provider.base_url);
  // Key files, like a manifest's images, are named relative to the file naming them.
  for (std::string* file :
       {&provider.api_key_file, &provider.access_key_file, &provider.secret_key_file}) {
    if (!file->empty() && std::filesystem::path(*file).is_relative()) {
      *file = (std::filesystem::path(file_name).parent_path() / *file).string();
    }
  }
}

}  // namespace

const ProviderConfig* Config::find_provider(std::string_view name) const {
  if (name.empty()) {
    name = default_provider;
  }
  for (const auto& p : providers) {
    if (p.name == name) {
      return &p;
    }
  }
  return name == "default" ? &provider : nullptr;
}

Config Config::for_provider(const ProviderConfig& chosen) const {
  Config out = *this;
  out.provider = chosen;
  out.limits.max_in_flight = chosen.max_in_flight.value_or(limits.max_in_flight);
  out.limits.submits_per_minute = chosen.submits_per_minute.value_or(limits.submits_per_minute);
  out.limits.polls_per_second = chosen.polls_per_second.value_or(limits.polls_per_second);
  for (const auto& [model, sizes] : chosen.prices.usd_per_second) {
    for (const auto& [size, price] : sizes) {
      out.prices.usd_per_second[model][size] = price;
    }
  }
  return out;
}

PriceTable default_prices() {
  PriceTable table;
  auto& p = table.usd_per_second;
  p["sora-2"] = {{"1280x720", 0.10}, {"720x1280", 0.10}};
  p["sora-2-pro"] = {{"1280x720", 0.30},
                     {"720x1280", 0.30},
                     {"1792x1024", 0.50},
                     {"1024x1792", 0.50}};
  return table;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value == nullptr ? std::nullopt : std::optional<std::string>(value);
  };
}

Result<Config> parse_config_text(const std::string& text, const std::string& file_name) {
  Config config;
  config.config_path = file_name;
  std::vector<ConfigProblem> problems;
  try {
    const toml::table root = toml::parse(text, file_name);
    apply_toml(root, config, problems);
    if (problems.empty()) {
      check_consistency(root, config, problems);
    }
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    problems.push_back({static_cast<int>(begin.line), static_cast<int>(begin.column), "", "",
                        "TOML syntax error: " + std::string(e.description())});
  }
  if (!problems.empty()) {
    return fail(ErrorCode::invalid_input, render(problems, file_name, text), file_name);
  }
  tidy_provider(config.provider, file_name);
  for (auto& provider : config.providers) {
    tidy_provider(provider, file_name);
  }
  return config;
}

Result<Config> load_config(const ConfigOverrides& overrides, const EnvLookup& env) {
  const auto file = VB_TRY(choose_config_file(overrides));
  Config config;
  if (file) {
    const std::string text = VB_TRY(read_config_file(*file));
    config = VB_TRY(parse_config_text(text, *file));
  }
  std::vector<ConfigProblem> problems;
  apply_env(env, config, problems);
  apply_flags(overrides, config, problems);
  if (!problems.empty()) {
    return fail(ErrorCode::invalid_input, render(problems, "", ""), "");
  }
  config.provider.base_url = strip_trailing_slashes(config.provider.base_url);
  return config;
}

namespace {

// OpenAI's key variable is never a default for another vendor: its key must not travel there.
constexpr DialectDefaults k_dialects[] = {
    {Dialect::openai, "openai", AuthScheme::bearer, "https://api.openai.com/v1", "OPENAI_API_KEY",
     "", ""},
    {Dialect::unified, "unified", AuthScheme::bearer, "https://api.openai.com/v1", "OPENAI_API_KEY",
     "", ""},
    {Dialect::kling, "kling", AuthScheme::kling_jwt, "https://api-singapore.klingai.com", "",
     "KLING_ACCESS_KEY", "KLING_SECRET_KEY"},
    {Dialect::minimax, "minimax", AuthScheme::bearer, "https://api.minimax.io", "MINIMAX_API_KEY",
     "", ""},
    {Dialect::wan, "wan", AuthScheme::bearer, "https://dashscope-intl.aliyuncs.com",
     "DASHSCOPE_API_KEY", "", ""},
    {Dialect::vidu, "vidu", AuthScheme::token, "https://api.vidu.com", "VIDU_API_KEY", "", ""},
    {Dialect::seedance, "seedance", AuthScheme::bearer,
     "https://ark.ap-southeast.bytepluses.com/api/v3", "ARK_API_KEY", "", ""},
    // A gateway's route, no vendor's: its address and its key variable are the table's to name.
    {Dialect::chat, "chat", AuthScheme::bearer, "", "", "", ""},
};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < std::size(k_dialects); ++i) {
    if (static_cast<std::size_t>(k_dialects[i].dialect) != i) {
      return false;
    }
  }
  return std::size(k_dialects) == k_dialect_count;
}
static_assert(in_enum_order(), "k_dialects: every Dialect once, in enum order");

}  // namespace

std::span<const DialectDefaults> dialect_defaults() {
  return k_dialects;
}

const DialectDefaults& defaults_of(Dialect dialect) {
  return k_dialects[static_cast<std::size_t>(dialect)];
}

const char* to_string(Dialect v) {
  return defaults_of(v).name.data();
}

const char* to_string(AuthScheme v) {
  switch (v) {
    case AuthScheme::bearer:
      return "bearer";
    case AuthScheme::kling_jwt:
      return "kling-jwt";
    case AuthScheme::token:
      return "token";
  }
  return "bearer";
}

const char* to_string(JobTimeoutAction v) {
  return v == JobTimeoutAction::fail ? "fail" : "poll";
}

const char* to_string(AmbiguousPolicy v) {
  switch (v) {
    case AmbiguousPolicy::hold:
      return "hold";
    case AmbiguousPolicy::resubmit:
      return "resubmit";
    case AmbiguousPolicy::fail:
      return "fail";
  }
  return "hold";
}

const char* to_string(Checksum v) {
  return v == Checksum::sha256 ? "sha256" : "none";
}

const char* to_string(VideoVerify v) {
  switch (v) {
    case VideoVerify::off:
      return "off";
    case VideoVerify::warn:
      return "warn";
    case VideoVerify::fail:
      return "fail";
  }
  return "warn";
}

const char* to_string(StoreSync v) {
  switch (v) {
    case StoreSync::off:
      return "off";
    case StoreSync::normal:
      return "normal";
    case StoreSync::full:
      return "full";
  }
  return "full";
}

}  // namespace vb
