// The API key's sources and the checks on a key file (config/api_key.h).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/api_key.h"
#include "config/config.h"
#include "security/leak_check_key.h"

using vb::test::k_leak_check_key;
namespace fs = std::filesystem;

namespace {

struct KeyDir {
  fs::path dir;
  KeyDir() {
    char name[] = "/tmp/vb-apikey-XXXXXX";
    dir = ::mkdtemp(name);
  }
  ~KeyDir() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& content, mode_t mode) const {
    const fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), mode);
    return p.string();
  }
};

vb::EnvLookup env_with(std::optional<std::string> value) {
  return [value](const std::string& name) -> std::optional<std::string> {
    return name == "VB_TEST_KEY" ? value : std::nullopt;
  };
}

}  // namespace

TEST_CASE("a key file's first line, trimmed, is the key", "[security][config]") {
  KeyDir d;
  CHECK(vb::read_api_key_file(d.write("a", std::string(k_leak_check_key) + "\n", 0600)).value() ==
        k_leak_check_key);
  CHECK(vb::read_api_key_file(
            d.write("b", std::string("  ") + k_leak_check_key + " \r\nsecond line\n", 0400))
            .value() == k_leak_check_key);
  CHECK(vb::read_api_key_file(d.write("c", k_leak_check_key, 0600)).value() == k_leak_check_key);
}

TEST_CASE("a key file readable by group or others is refused, naming the file",
          "[security][config]") {
  KeyDir d;
  for (mode_t mode : {0640, 0604, 0644, 0660, 0666, 0610}) {
    INFO("mode " << std::oct << mode);
    const std::string path = d.write("k", std::string(k_leak_check_key) + "\n", mode);
    auto key = vb::read_api_key_file(path);
    REQUIRE_FALSE(key.has_value());
    CHECK(key.error().code == vb::ErrorCode::invalid_input);
    const std::string shown = key.error().describe();
    CHECK(shown.find(path) != std::string::npos);
    CHECK(shown.find("group or others") != std::string::npos);
    CHECK(shown.find("chmod 600") != std::string::npos);
    CHECK(shown.find(k_leak_check_key) == std::string::npos);
  }
}

TEST_CASE("bad key files fail with a message that never shows their content",
          "[security][config]") {
  KeyDir d;
  SECTION("missing") {
    auto key = vb::read_api_key_file((d.dir / "nope").string());
    REQUIRE_FALSE(key);
    CHECK(key.error().code == vb::ErrorCode::not_found);
  }
  SECTION("empty or blank") {
    CHECK_FALSE(vb::read_api_key_file(d.write("e", "", 0600)));
    auto key = vb::read_api_key_file(d.write("b", "   \n" + std::string(k_leak_check_key), 0600));
    REQUIRE_FALSE(key);
    CHECK(key.error().message.find("empty") != std::string::npos);
  }
  SECTION("control characters (header injection)") {
    auto key = vb::read_api_key_file(d.write("c", std::string(k_leak_check_key) + "\x01x", 0600));
    REQUIRE_FALSE(key);
    CHECK(key.error().describe().find(k_leak_check_key) == std::string::npos);
  }
  SECTION("a directory") {
    fs::create_directory(d.dir / "dir");
    ::chmod((d.dir / "dir").c_str(), 0700);
    CHECK_FALSE(vb::read_api_key_file((d.dir / "dir").string()));
  }
  SECTION("huge") {
    auto key = vb::read_api_key_file(d.write("h", std::string(100000, 'k'), 0600));
    REQUIRE_FALSE(key);
    CHECK(key.error().describe().find("kkkk") == std::string::npos);
  }
}

TEST_CASE("the environment variable wins; the key file is used when it is unset or empty",
          "[security][config]") {
  KeyDir d;
  vb::ProviderConfig provider;
  provider.api_key_env = "VB_TEST_KEY";
  provider.api_key_file = d.write("k", "sk-from-file\n", 0600);
  CHECK(vb::resolve_api_key(provider, env_with("sk-from-env")).value() == "sk-from-env");
  CHECK(vb::resolve_api_key(provider, env_with(std::nullopt)).value() == "sk-from-file");
  CHECK(vb::resolve_api_key(provider, env_with("")).value() == "sk-from-file");
  provider.api_key_file.clear();
  auto none = vb::resolve_api_key(provider, env_with(std::nullopt));
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("VB_TEST_KEY") != std::string::npos);
  CHECK(none.error().message.find("api_key_file") != std::string::npos);
  CHECK_FALSE(vb::resolve_api_key(provider, env_with("sk-bad\nInjected: yes")));
}

TEST_CASE("provider.api_key_file is read from the config, relative to the config's folder",
          "[security][config]") {
  auto config = vb::parse_config_text("[provider]\napi_key_file = \"secrets/openai.key\"\n",
                                      "/etc/vidbatch/vidbatch.toml");
  REQUIRE(config.has_value());
  CHECK(config->provider.api_key_file == "/etc/vidbatch/secrets/openai.key");
  auto absolute = vb::parse_config_text("[provider]\napi_key_file = \"/run/keys/k\"\n", "x/v.toml");
  REQUIRE(absolute.has_value());
  CHECK(absolute->provider.api_key_file == "/run/keys/k");
  auto bad = vb::parse_config_text("[provider]\napi_key_file = 42\n", "v.toml");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("provider.api_key_file") != std::string::npos);
}
