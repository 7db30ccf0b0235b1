// Config: defaults, the TOML file, environment and flag precedence, and errors.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/config.h"

#ifndef VIDBATCH_SOURCE_DIR
#error "VIDBATCH_SOURCE_DIR must be defined by tests/CMakeLists.txt"
#endif

namespace vb {
namespace {

namespace fs = std::filesystem;

// A fresh folder that also becomes the working directory for the test, so
// that ./vidbatch.toml lookups are under control. Restores both at scope exit.
class TempCwd {
 public:
  TempCwd() : m_previous(fs::current_path()) {
    std::string pattern = (fs::temp_directory_path() / "vidbatch-config-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = pattern;
    fs::current_path(m_path);
  }
  ~TempCwd() {
    fs::current_path(m_previous);
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  TempCwd(const TempCwd&) = delete;
  TempCwd& operator=(const TempCwd&) = delete;

  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(m_path / name) << text;
    return (m_path / name).string();
  }

 private:
  fs::path m_previous;
  fs::path m_path;
};

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional(it->second);
  };
}

std::string error_of(const std::string& toml) {
  const auto config = parse_config_text(toml, "t.toml");
  REQUIRE_FALSE(config.has_value());
  CHECK(config.error().code == ErrorCode::invalid_input);
  CHECK(config.error().where == "t.toml");
  return config.error().message;
}

// Every field, so that two configs can be compared in one assertion.
std::string dump(const Config& c) {
  std::ostringstream out;
  out << to_string(c.provider.dialect) << '|' << c.provider.base_url << '|'
      << c.provider.api_key_env << '|' << c.limits.max_in_flight << '|'
      << c.limits.submits_per_minute << '|' << c.limits.polls_per_second << '|'
      << c.limits.poll_interval_ms << '|' << c.limits.poll_interval_max_ms << '|'
      << c.limits.max_downloads << '|' << c.limits.poll_by_listing << '|'
      << to_string(c.limits.on_job_timeout) << '|' << c.retry.submit_attempts << '|'
      << c.retry.poll_attempts << '|' << c.retry.download_attempts << '|' << c.retry.base_delay_ms
      << '|' << c.retry.max_delay_ms << '|' << c.retry.give_up_after_ms << '|'
      << c.retry.ambiguous_settle_ms << '|' << to_string(c.retry.ambiguous_policy) << '|'
      << c.output.root << '|' << c.output.layout << '|' << c.output.thumbnails << '|'
      << c.output.sidecars << '|' << to_string(c.output.checksum) << '|'
      << to_string(c.output.verify) << '|' << c.http.connect_timeout_ms << '|'
      << c.http.request_timeout_ms << '|' << c.http.download_timeout_ms << '|'
      << c.http.low_speed_time_ms << '|' << c.db_path << '|' << to_string(c.sync);
  return out.str();
}

// g++ 12 -O2 warns that string and map members of Config{} "may be used uninitialized" when they
// are destroyed; every member has an initializer, so it is a false positive, silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
const std::string& default_dump() {
  static const std::string text = dump(Config{});
  return text;
}
#pragma GCC diagnostic pop

TEST_CASE("an empty file gives the built-in defaults", "[config]") {
  const auto config = parse_config_text("", "empty.toml");
  REQUIRE(config.has_value());
  CHECK(dump(*config) == default_dump());
  CHECK(config->config_path == "empty.toml");
  CHECK(config->provider.base_url == "https://api.openai.com/v1");
  CHECK(config->limits.max_in_flight == 8);
  CHECK(config->sync == StoreSync::full);
}

TEST_CASE("config/vidbatch.toml sets every key to its built-in default", "[config]") {
  const std::string path = std::string(VIDBATCH_SOURCE_DIR) + "/config/vidbatch.toml";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE(text.str().size() > 100);
  const auto config = parse_config_text(text.str(), path);
  REQUIRE(config.has_value());
  CHECK(dump(*config) == default_dump());
  // Every key is present: a misspelt one would have failed above, a missing
  // one shows up here.
  for (const char* key : {"dialect",
                          "base_url",
                          "api_key_env",
                          "max_in_flight",
                          "submits_per_minute",
                          "polls_per_second",
                          "poll_interval_ms",
                          "poll_interval_max_ms",
                          "max_downloads",
                          "submit_attempts",
                          "poll_attempts",
                          "download_attempts",
                          "base_delay_ms",
                          "max_delay_ms",
                          "give_up_after_ms",
                          "root",
                          "layout",
                          "thumbnails",
                          "sidecars",
                          "checksum",
                          "verify",
                          "connect_timeout_ms",
                          "request_timeout_ms",
                          "download_timeout_ms",
                          "low_speed_time_ms",
                          "path",
                          "sync"}) {
    CHECK(text.str().find(std::string("\n") + key + " = ") != std::string::npos);
  }
}

TEST_CASE("file values replace defaults", "[config]") {
  const auto config = parse_config_text(R"(
[provider]
base_url = "http://localhost:8080/v1/"
api_key_env = "GATEWAY_KEY"
[limits]
max_in_flight = 3
submits_per_minute = 0.5
polls_per_second = 2
poll_interval_ms = 100
poll_interval_max_ms = 100
[retry]
submit_attempts = 1
max_delay_ms = 1000
[output]
root = "/data/videos"
layout = "{batch}-{id}.mp4"
sidecars = false
checksum = "none"
verify = "fail"
[http]
low_speed_time_ms = 5000
[store]
path = "state/run.db"
sync = "normal"
)",
                                        "t.toml");
  REQUIRE(config.has_value());
  CHECK(config->provider.base_url == "http://localhost:8080/v1");  // trailing '/' stripped
  CHECK(config->provider.api_key_env == "GATEWAY_KEY");
  CHECK(config->limits.max_in_flight == 3);
  CHECK(config->limits.submits_per_minute == 0.5);
  CHECK(config->limits.polls_per_second == 2.0);
  CHECK(config->limits.poll_interval_ms == 100);
  CHECK(config->retry.submit_attempts == 1);
  CHECK(config->retry.max_delay_ms == 1000);
  CHECK(config->retry.poll_attempts == 10);  // untouched keys keep defaults
  CHECK(config->output.root == "/data/videos");
  CHECK(config->output.layout == "{batch}-{id}.mp4");
  CHECK_FALSE(config->output.sidecars);
  CHECK(config->output.checksum == Checksum::none);
  CHECK(config->output.verify == VideoVerify::fail);
  CHECK(config->output.thumbnails);  // untouched
  CHECK(config->http.low_speed_time_ms == 5000);
  CHECK(config->db_path == "state/run.db");
  CHECK(config->sync == StoreSync::normal);
}

TEST_CASE("unknown keys name their path and suggest the intended key", "[config]") {
  CHECK(error_of("[limits]\nmax_in_flght = 3\n") ==
        "t.toml:2:1: limits.max_in_flght: unknown key 'max_in_flght' (did you mean "
        "'max_in_flight'?)\nmax_in_flght = 3\n^");
  CHECK(error_of("[limit]\nmax_in_flight = 3\n") ==
        "t.toml:1:2: limit: unknown section [limit] (did you mean [limits]?)\n[limit]\n ^");
  CHECK(error_of("max_in_flight = 3\n") ==
        "t.toml:1:1: max_in_flight: unknown key 'max_in_flight' (did you mean "
        "'limits.max_in_flight'?)\nmax_in_flight = 3\n^");
  CHECK(error_of("[store]\ncolour = 1\n") ==
        "t.toml:2:1: store.colour: unknown key 'colour'; expected one of: path, sync, "
        "worker_ttl_ms\n"
        "colour = 1\n^");
}

TEST_CASE("wrong types and out-of-range values are refused", "[config]") {
  CHECK(error_of("[limits]\nmax_in_flight = \"8\"\n") ==
        "t.toml:2:17: limits.max_in_flight: expected a positive integer, got \"8\"\n"
        "max_in_flight = \"8\"\n                ^");
  CHECK(
      error_of("[limits]\nmax_in_flight = 0\n")
          .starts_with("t.toml:2:17: limits.max_in_flight: expected a positive integer, got 0\n"));
  CHECK(error_of("[limits]\nmax_in_flight = 3000000000\n")
            .starts_with(
                "t.toml:2:17: limits.max_in_flight: must be at most 2147483647, got 3000000000\n"));
  CHECK(error_of("[limits]\npolls_per_second = -1.5\n")
            .starts_with(
                "t.toml:2:20: limits.polls_per_second: expected a positive number, got -1.5\n"));
  CHECK(error_of("[limits]\nsubmits_per_minute = nan\n")
            .starts_with("t.toml:2:22: limits.submits_per_minute: expected a positive number or "
                         "\"auto\", got nan\n"));
  CHECK(error_of("[http]\nconnect_timeout_ms = 1.5\n")
            .starts_with(
                "t.toml:2:22: http.connect_timeout_ms: expected a positive integer, got 1.5\n"));
  CHECK(error_of("[provider]\nbase_url = 5\n")
            .starts_with("t.toml:2:12: provider.base_url: expected a string, got 5\n"));
  CHECK(error_of("limits = 5\n")
            .starts_with("t.toml:1:10: limits: expected a table [limits], got 5\n"));
}

TEST_CASE("string values are checked", "[config]") {
  CHECK(error_of("[provider]\ndialect = \"veo\"\n")
            .starts_with(
                "t.toml:2:11: provider.dialect: expected \"openai\", \"unified\", \"kling\", "
                "\"minimax\", \"wan\", \"vidu\", \"seedance\" or \"chat\", got \"veo\"\n"));
  CHECK(error_of("[provider]\nbase_url = \"api.openai.com\"\n")
            .starts_with("t.toml:2:12: provider.base_url: expected a URL starting with http:// or "
                         "https://, got "
                         "\"api.openai.com\"\n"));
  CHECK(error_of("[provider]\napi_key_env = \"my key\"\n")
            .starts_with(
                "t.toml:2:15: provider.api_key_env: expected an environment variable name like "
                "OPENAI_API_KEY, got \"my key\"\n"));
  CHECK(error_of("[store]\nsync = \"fulll\"\n")
            .starts_with("t.toml:2:8: store.sync: expected \"off\", \"normal\" or \"full\", got "
                         "\"fulll\" (did you "
                         "mean \"full\"?)\n"));
  CHECK(error_of("[store]\npath = \"\"\n")
            .starts_with("t.toml:2:8: store.path: must not be empty\n"));
  CHECK(error_of("[output]\nverify = \"strict\"\n")
            .starts_with("t.toml:2:10: output.verify: expected \"off\", \"warn\" or \"fail\", got "
                         "\"strict\"\n"));
  CHECK(error_of("[output]\nchecksum = \"md5\"\n")
            .starts_with(
                "t.toml:2:12: output.checksum: expected \"sha256\" or \"none\", got \"md5\"\n"));
  CHECK(error_of("[output]\nlayout = \"{batch}.mp4\"\n")
            .starts_with("t.toml:2:10: output.layout: must contain {id} so that every job gets its "
                         "own file, got "
                         "\"{batch}.mp4\"\n"));
  CHECK(error_of("[output]\nlayout = \"/abs/{id}.mp4\"\n")
            .find("must be a path relative to output.root") != std::string::npos);
  CHECK(error_of("[output]\nlayout = \"a/../../{id}.mp4\"\n").find("must not contain '..'") !=
        std::string::npos);
  CHECK(
      error_of("[output]\nlayout = \"{bach}/{id}.mp4\"\n")
          .starts_with(
              "t.toml:2:10: output.layout: unknown placeholder {bach} (did you mean {batch}?)\n"));
  const auto dots_in_name = parse_config_text("[output]\nlayout = \"{id}..mp4\"\n", "t.toml");
  CHECK(dots_in_name.has_value());
}

TEST_CASE("all errors are listed, not just the first", "[config]") {
  const std::string message = error_of(
      "[limits]\nmax_in_flight = -1\nmax_downloads = \"4\"\n[http]\nconect_timeout_ms = 3\n");
  CHECK(message ==
        "t.toml:2:17: limits.max_in_flight: expected a positive integer, got -1\n"
        "max_in_flight = -1\n                ^\n"
        "t.toml:3:17: limits.max_downloads: expected a positive integer, got \"4\"\n"
        "max_downloads = \"4\"\n                ^\n"
        "t.toml:5:1: http.conect_timeout_ms: unknown key 'conect_timeout_ms' (did you mean "
        "'connect_timeout_ms'?)\n"
        "conect_timeout_ms = 3\n^");
}

TEST_CASE("keys that must be ordered are checked together", "[config]") {
  CHECK(
      error_of("[limits]\npoll_interval_ms = 60000\n")
          .starts_with(
              "t.toml:2:20: limits.poll_interval_max_ms: must be at least limits.poll_interval_ms "
              "(60000), got 30000\n"));
  CHECK(error_of("[retry]\nbase_delay_ms = 10\nmax_delay_ms = 5\n")
            .starts_with("t.toml:3:16: retry.max_delay_ms: must be at least retry.base_delay_ms "
                         "(10), got 5\n"));
}

TEST_CASE("TOML syntax errors carry the parser's position", "[config]") {
  CHECK(
      error_of("[limits]\nmax_in_flight = = 3\n").starts_with("t.toml:2:17: TOML syntax error: "));
}

TEST_CASE("precedence: flag > environment > file > default", "[config]") {
  TempCwd dir;
  const std::string file =
      dir.write("custom.toml",
                "[provider]\nbase_url = \"http://file.example/v1\"\n"
                "[limits]\nmax_in_flight = 3\n[output]\nroot = \"file-out\"\n");
  ConfigOverrides flags;
  flags.config_path = file;

  auto config = load_config(flags, fake_env({}));
  REQUIRE(config.has_value());
  CHECK(config->config_path == file);
  CHECK(config->provider.base_url == "http://file.example/v1");
  CHECK(config->limits.max_in_flight == 3);
  CHECK(config->limits.max_downloads == 4);  // default

  config = load_config(flags, fake_env({{"OPENAI_BASE_URL", "http://env.example/v1/"}}));
  REQUIRE(config.has_value());
  CHECK(config->provider.base_url == "http://env.example/v1");

  config = load_config(flags, fake_env({{"OPENAI_BASE_URL", ""}}));  // empty means unset
  REQUIRE(config.has_value());
  CHECK(config->provider.base_url == "http://file.example/v1");

  flags.base_url = "http://flag.example/v1";
  flags.concurrency = 12;
  flags.out_dir = "flag-out";
  flags.db_path = "flag.db";
  config = load_config(flags, fake_env({{"OPENAI_BASE_URL", "http://env.example/v1"}}));
  REQUIRE(config.has_value());
  CHECK(config->provider.base_url == "http://flag.example/v1");
  CHECK(config->limits.max_in_flight == 12);
  CHECK(config->output.root == "flag-out");
  CHECK(config->db_path == "flag.db");
}

TEST_CASE("bad environment and flag values are errors naming their origin", "[config]") {
  TempCwd dir;
  ConfigOverrides flags;
  auto config = load_config(flags, fake_env({{"OPENAI_BASE_URL", "localhost:8080"}}));
  REQUIRE_FALSE(config.has_value());
  CHECK(config.error().code == ErrorCode::invalid_input);
  CHECK(config.error().message ==
        "environment variable OPENAI_BASE_URL: provider.base_url: expected a URL starting with "
        "http:// or https://, got \"localhost:8080\"");

  flags.concurrency = 0;
  flags.base_url = "ftp://x";
  config = load_config(flags, fake_env({}));
  REQUIRE_FALSE(config.has_value());
  CHECK(config.error().message ==
        "--base-url: provider.base_url: expected a URL starting with http:// or https://, got "
        "\"ftp://x\"\n"
        "--concurrency: limits.max_in_flight: expected a positive integer, got 0");
}

TEST_CASE("config: a --config file must exist; ./vidbatch.toml is read only if present",
          "[config]") {
  TempCwd dir;
  ConfigOverrides flags;
  flags.config_path = "missing.toml";
  const auto missing = load_config(flags, fake_env({}));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == ErrorCode::not_found);
  CHECK(missing.error().where == "missing.toml");

  const auto none = load_config({}, fake_env({}));
  REQUIRE(none.has_value());
  CHECK(none->config_path.empty());
  CHECK(dump(*none) == default_dump());

  dir.write("vidbatch.toml", "[limits]\nmax_downloads = 9\n");
  const auto implicit = load_config({}, fake_env({}));
  REQUIRE(implicit.has_value());
  CHECK(implicit->config_path == "vidbatch.toml");
  CHECK(implicit->limits.max_downloads == 9);

  dir.write("vidbatch.toml", "[limits]\nmax_downloads = 0\n");
  const auto bad = load_config({}, fake_env({}));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.starts_with("vidbatch.toml:2:17: limits.max_downloads: "));
}

TEST_CASE("process_env reads the real environment", "[config]") {
  ::setenv("VIDBATCH_CONFIG_TEST_VAR", "value", 1);
  const EnvLookup env = process_env();
  CHECK(env("VIDBATCH_CONFIG_TEST_VAR") == "value");
  ::unsetenv("VIDBATCH_CONFIG_TEST_VAR");
  CHECK(env("VIDBATCH_CONFIG_TEST_VAR") == std::nullopt);
}

}  // namespace
}  // namespace vb
