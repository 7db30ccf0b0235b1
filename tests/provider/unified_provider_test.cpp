// [provider] UnifiedTaskProvider: the gateway's /video/create body and the
// jobs it refuses (chains and characters have no route in this format).
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "provider/unified_task_provider.h"

using namespace vb;

namespace {

JobSpec gateway_spec() {
  JobSpec s;
  s.id = "a";
  s.prompt = "A lighthouse in a storm";
  s.seconds = 15;
  s.orientation = Orientation::portrait;
  return s;
}

UnifiedTaskProvider unified_provider() {
  ProviderConfig c;
  c.dialect = Dialect::unified;
  c.base_url = "https://gw.test/v1";
  return UnifiedTaskProvider(c);
}

}  // namespace

TEST_CASE("unified provider: create carries duration, size and the gateway fields", "[provider]") {
  JobSpec s = gateway_spec();
  s.images = {"https://img.test/a.png"};
  s.character_url = "https://cdn.test/otter.mp4";
  s.character_timestamps = "2,4";
  s.watermark = false;
  s.private_video = true;
  auto req = unified_provider().create_request(s, {});
  REQUIRE(req.has_value());
  CHECK(req->url == "https://gw.test/v1/video/create");
  rapidjson::Document body;
  body.Parse(req->body.c_str());
  REQUIRE(body.IsObject());
  CHECK(body["duration"].GetInt() == 15);
  CHECK(std::string(body["size"].GetString()) == "small");
  CHECK(std::string(body["orientation"].GetString()) == "portrait");
  CHECK(std::string(body["images"][0].GetString()) == "https://img.test/a.png");
  CHECK(std::string(body["character_url"].GetString()) == "https://cdn.test/otter.mp4");
  CHECK(std::string(body["character_timestamps"].GetString()) == "2,4");
  CHECK(body["watermark"].GetBool() == false);
  CHECK(body["private"].GetBool() == true);

  JobSpec plain = gateway_spec();
  auto bare = unified_provider().create_request(plain, {});
  REQUIRE(bare.has_value());
  CHECK(bare->body.find("watermark") == std::string::npos);  // unset: the gateway's default
}

TEST_CASE("unified provider: chains and characters are refused with the way out", "[provider]") {
  JobSpec s = gateway_spec();
  CHECK(unified_provider().check(s).has_value());
  s.derived = DerivedKind::remix;
  s.parent = "base";
  auto remix = unified_provider().check(s);
  REQUIRE_FALSE(remix.has_value());
  CHECK(remix.error().message.find("remix_of: the unified task format has no remix") == 0);
  CHECK(remix.error().message.find("dialect = \"openai\"") != std::string::npos);
  JobSpec cameo = gateway_spec();
  cameo.characters = {"mira"};
  auto refused = unified_provider().check(cameo);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("character_url") != std::string::npos);
}
