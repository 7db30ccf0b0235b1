// Config: several providers ([providers.NAME]), the default provider, and what
// each provider's run sees (Config::for_provider).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "provider/registry.h"

using namespace vb;

namespace {

const char* k_two_providers = R"([limits]
max_in_flight = 10
polls_per_second = 4

[providers]
default = "gateway"

[providers.gateway]
dialect = "unified"
base_url = "https://api.dataeyes.ai/v1/"
api_key_env = "DATAEYES_API_KEY"
max_in_flight = 3

[providers.gateway.prices.sora-2]
"small" = 0.05

[providers.veo]
base_url = "https://gateway.example/v1"
api_key_env = "VEO_KEY"
submits_per_minute = 12
)";

}  // namespace

TEST_CASE("config: [providers.NAME] tables, in file order, with their own limits", "[config]") {
  auto config = parse_config_text(k_two_providers, "p.toml");
  INFO((config ? "" : config.error().describe()));
  REQUIRE(config.has_value());
  REQUIRE(config->providers.size() == 2);
  CHECK(config->providers[0].name == "gateway");
  CHECK(config->providers[0].dialect == Dialect::unified);
  CHECK(config->providers[0].base_url == "https://api.dataeyes.ai/v1");  // slash removed
  CHECK(config->providers[1].name == "veo");
  CHECK(config->providers[1].dialect == Dialect::openai);
  CHECK(config->default_provider == "gateway");

  const ProviderConfig* fallback = config->find_provider("");
  REQUIRE(fallback != nullptr);
  CHECK(fallback->name == "gateway");
  CHECK(config->find_provider("default") == &config->provider);  // [provider] stays usable
  CHECK(config->find_provider("nope") == nullptr);

  const Config gateway = config->for_provider(*config->find_provider("gateway"));
  CHECK(gateway.provider.name == "gateway");
  CHECK(gateway.limits.max_in_flight == 3);
  CHECK(gateway.limits.polls_per_second == 4);  // not set: [limits]
  CHECK(gateway.prices.usd_per_second.at("sora-2").at("small") == 0.05);
  CHECK(gateway.prices.usd_per_second.at("sora-2").at("1280x720") == 0.10);  // defaults stay

  const Config veo = config->for_provider(*config->find_provider("veo"));
  CHECK(veo.limits.max_in_flight == 10);
  CHECK(veo.limits.submits_per_minute == 12);
  CHECK(veo.prices.usd_per_second.at("sora-2").count("small") == 0);  // gateway's own prices only
}

TEST_CASE("config: bad provider tables are named by their TOML path", "[config]") {
  struct Case {
    const char* toml;
    const char* expected;
  };
  auto c = GENERATE(values<Case>({
      {"[providers.a]\ndialect = \"klingai\"\n",
       "p.toml:2:11: providers.a.dialect: expected \"openai\", \"unified\", \"kling\", "
       "\"minimax\", \"wan\", \"vidu\", \"seedance\" or \"chat\""},
      {"[providers.a]\nmax_in_flight = 0\n",
       "p.toml:2:17: providers.a.max_in_flight: expected a positive integer"},
      {"[providers.a]\nbase_url = \"ftp://x\"\n", "providers.a.base_url: expected a URL"},
      {"[providers.a]\nbase_ur = \"https://x\"\n",
       "providers.a.base_ur: unknown key 'base_ur' (did you mean 'base_url'?)"},
      {"[providers.a]\npoll_interval_ms = 5\n", "providers.a.poll_interval_ms: unknown key"},
      {"[providers]\ndefault = \"b\"\n[providers.a]\n",
       "providers.default: no provider named \"b\""},
      {"[providers]\na = 3\n", "providers.a: expected a table [providers.a], got 3"},
      {"[providers.\"a b\"]\n", "a provider name is 1 to 64 letters"},
      {"[providers.a.prices.sora-2]\n\"small\" = \"cheap\"\n",
       "providers.a.prices.sora-2.small: expected USD per second"},
      {"[providers.a]\nauth = \"jwt\"\n",
       "p.toml:2:8: providers.a.auth: expected \"bearer\", \"kling-jwt\" or \"token\", got "
       "\"jwt\""},
      {"[providers.a]\nauth = \"kling-jwt\"\n",
       "p.toml:2:8: providers.a.access_key_env: auth = \"kling-jwt\" with dialect \"openai\" needs "
       "access_key_env (or access_key_file)"},
      {"[providers.a]\nsecret_key_env = \"a b\"\n",
       "providers.a.secret_key_env: expected an environment variable name"},
      {"[providers.a]\ndialect = \"chat\"\napi_key_env = \"K\"\n",
       "p.toml:2:11: providers.a.base_url: dialect \"chat\" is a gateway's route with no address "
       "of its own"},
      {"[providers.a]\ndialect = \"chat\"\nbase_url = \"https://gw.example/v1\"\n",
       "p.toml:2:11: providers.a.api_key_env: auth = \"bearer\" with dialect \"chat\" needs "
       "api_key_env"},
  }));
  auto config = parse_config_text(c.toml, "p.toml");
  REQUIRE_FALSE(config.has_value());
  INFO(config.error().describe());
  CHECK(config.error().describe().find(c.expected) != std::string::npos);
}

TEST_CASE("config: --concurrency beats every provider's max_in_flight", "[config]") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("vidbatch-providers-" + std::to_string(::getpid()) + ".toml"))
                               .string();
  std::ofstream(path) << k_two_providers;
  ConfigOverrides flags;
  flags.config_path = path;
  auto no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto plain = load_config(flags, no_env);
  REQUIRE(plain.has_value());
  CHECK(plain->for_provider(*plain->find_provider("gateway")).limits.max_in_flight == 3);
  flags.concurrency = 2;
  auto capped = load_config(flags, no_env);
  std::filesystem::remove(path);
  REQUIRE(capped.has_value());
  CHECK(capped->for_provider(*capped->find_provider("gateway")).limits.max_in_flight == 2);
  CHECK(capped->for_provider(*capped->find_provider("veo")).limits.max_in_flight == 2);
}

TEST_CASE("config: auth and keys; a table's dialect gives the keys it leaves out", "[config]") {
  auto config = parse_config_text(R"([providers.gw]
dialect = "unified"
base_url = "https://gw.example/v1"
auth = "token"
api_key_env = "GW_KEY"
[providers.signed]
auth = "kling-jwt"
access_key_env = "AK"
secret_key_file = "keys/sk"
)",
                                  "/etc/vb/p.toml");
  INFO((config ? "" : config.error().describe()));
  REQUIRE(config.has_value());
  CHECK(config->provider.auth == AuthScheme::bearer);
  CHECK(config->provider.api_key_env == "OPENAI_API_KEY");
  const ProviderConfig& gw = config->providers[0];
  CHECK(gw.auth == AuthScheme::token);
  CHECK(gw.api_key_env == "GW_KEY");
  const ProviderConfig& jwt = config->providers[1];
  CHECK(jwt.auth == AuthScheme::kling_jwt);
  CHECK(jwt.access_key_env == "AK");
  CHECK(jwt.secret_key_file == "/etc/vb/keys/sk");  // relative to the config's folder
}

TEST_CASE("config: wan, vidu and seedance defaults; documented caps bound their providers",
          "[config]") {
  auto config = parse_config_text(R"([limits]
max_in_flight = 8
submits_per_minute = 6000
[providers.wan]
dialect = "wan"
[providers.vidu]
dialect = "vidu"
[providers.ark]
dialect = "seedance"
[providers.vidu-own]
dialect = "vidu"
auth = "bearer"
api_key_env = "GATEWAY_API_KEY"
max_in_flight = 7
)",
                                  "p.toml");
  INFO((config ? "" : config.error().describe()));
  REQUIRE(config.has_value());
  const ProviderConfig& wan = *config->find_provider("wan");
  CHECK(wan.auth == AuthScheme::bearer);
  CHECK(wan.api_key_env == "DASHSCOPE_API_KEY");
  CHECK(wan.base_url == "https://dashscope-intl.aliyuncs.com");
  const ProviderConfig& vidu = *config->find_provider("vidu");
  CHECK(vidu.auth == AuthScheme::token);
  CHECK(vidu.api_key_env == "VIDU_API_KEY");
  CHECK(config->find_provider("ark")->base_url == "https://ark.ap-southeast.bytepluses.com/api/v3");
  // The vendors' documented caps (provider/registry.cpp) bound tables without their own.
  CHECK(provider_config(*config, wan).limits.max_in_flight == 8);
  CHECK(provider_config(*config, vidu).limits.max_in_flight == 5);  // 5 per organisation
  CHECK(config->for_provider(vidu).limits.max_in_flight == 8);      // the config alone
  const Config ark = provider_config(*config, *config->find_provider("ark"));
  CHECK(ark.limits.max_in_flight == 8);         // [limits] is lower than 10
  CHECK(ark.limits.submits_per_minute == 600);  // Ark's RPM
  // A table's own cap is the user's word.
  CHECK(provider_config(*config, *config->find_provider("vidu-own")).limits.max_in_flight == 7);
}

TEST_CASE("config: submits_per_minute is learnt by default, pinned by a number", "[config]") {
  auto defaults = parse_config_text("", "d.toml");
  REQUIRE(defaults.has_value());
  CHECK(defaults->limits.submits_per_minute == k_rate_auto);
  auto config = parse_config_text(
      "[limits]\nsubmits_per_minute = 12\n"
      "[providers.learnt]\nsubmits_per_minute = \"auto\"\n"
      "[providers.pinned]\nmax_in_flight = 2\n",
      "a.toml");
  INFO((config ? "" : config.error().describe()));
  REQUIRE(config.has_value());
  CHECK(config->limits.submits_per_minute == 12);
  CHECK(config->for_provider(*config->find_provider("learnt")).limits.submits_per_minute ==
        k_rate_auto);
  CHECK(config->for_provider(*config->find_provider("pinned")).limits.submits_per_minute == 12);
  auto bad = parse_config_text("[limits]\nsubmits_per_minute = \"fast\"\n", "b.toml");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.starts_with(
      "b.toml:2:22: limits.submits_per_minute: expected a positive number or \"auto\", got "
      "\"fast\""));
}
