// [provider] Credentials per auth scheme: Kling's HS256 JWT (claims, signature, renewal before
// expiry) and the static Bearer / Token keys, built from the config's variables and files.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "config/config.h"
#include "provider/kling_jwt.h"
#include "provider/registry.h"

using namespace vb;

namespace {

std::string base64url_decode(std::string_view text) {
  static const std::string k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    bits = (bits << 6) | static_cast<unsigned>(k_alphabet.find(c));
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// The claims of "Bearer <header>.<claims>.<signature>".
std::string claims_of(const std::string& authorization) {
  REQUIRE(authorization.starts_with("Bearer "));
  const std::string token = authorization.substr(7);
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  REQUIRE(second != std::string::npos);
  return base64url_decode(token.substr(first + 1, second - first - 1));
}

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

}  // namespace

TEST_CASE("an HS256 JWT is signed as jwt.io's example", "[provider][security]") {
  CHECK(sign_hs256_jwt(R"({"sub":"1234567890","name":"John Doe","iat":1516239022})",
                       "your-256-bit-secret") ==
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwia"
        "WF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
}

TEST_CASE("Kling's JWT names the access key, lives 30 minutes and is renewed 5 before",
          "[provider][security]") {
  KlingJwt jwt("AK-123", "SK-secret");
  const Millis t0 = 1'774'805'076'000;
  const std::string first = jwt.authorization(t0);
  CHECK(claims_of(first) == R"({"iss":"AK-123","exp":1774806876,"nbf":1774805071})");
  CHECK(first.find("SK-secret") == std::string::npos);
  // The same token while more than 5 minutes of it are left...
  CHECK(jwt.authorization(t0 + 24 * 60 * 1000) == first);
  // ...and a new one, valid from then, once fewer are.
  const std::string second = jwt.authorization(t0 + 25 * 60 * 1000 + 1);
  CHECK(second != first);
  CHECK(claims_of(second) == R"({"iss":"AK-123","exp":1774808376,"nbf":1774806571})");
}

TEST_CASE("credentials per auth scheme, from the provider's variables", "[provider][security]") {
  ProviderConfig p;
  p.name = "kling";
  p.auth = AuthScheme::kling_jwt;
  p.access_key_env = "KLING_AK";
  p.secret_key_env = "KLING_SK";
  auto jwt = make_credentials(p, env_of({{"KLING_AK", "ak-1"}, {"KLING_SK", "sk-1"}}));
  REQUIRE(jwt.has_value());
  CHECK(claims_of((*jwt)->authorization(1000000)).starts_with(R"({"iss":"ak-1",)"));

  auto missing = make_credentials(p, env_of({{"KLING_AK", "ak-1"}}));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message ==
        "no secret key: set the environment variable KLING_SK (or name another one with "
        "providers.kling.secret_key_env, or a key file with providers.kling.secret_key_file, in "
        "the config)");
  CHECK(missing.error().describe().find("ak-1") == std::string::npos);

  p.auth = AuthScheme::token;
  p.api_key_env = "VIDU_KEY";
  auto token = make_credentials(p, env_of({{"VIDU_KEY", "vda-1"}}));
  REQUIRE(token.has_value());
  CHECK((*token)->authorization(0) == "Token vda-1");
  p.auth = AuthScheme::bearer;
  auto bearer = make_credentials(p, env_of({{"VIDU_KEY", "sk-gw"}}));
  REQUIRE(bearer.has_value());
  CHECK((*bearer)->authorization(0) == "Bearer sk-gw");
}
