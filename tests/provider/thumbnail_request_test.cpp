// [provider] thumbnail_request: where each dialect serves a finished video's
// thumbnail, and with which credentials.
#include <catch2/catch.hpp>

#include "provider/openai_videos_provider.h"
#include "provider/unified_task_provider.h"

using namespace vb;

namespace {

ProviderConfig config_for(Dialect dialect) {
  ProviderConfig c;
  c.dialect = dialect;
  c.base_url = "https://api.test/v1";
  return c;
}

RemoteStatus completed(std::string thumbnail_url = "") {
  RemoteStatus s;
  s.phase = RemotePhase::completed;
  s.video_url = thumbnail_url.empty() ? "" : "https://cdn.test/v.mp4?sig=1";
  s.thumbnail_url = std::move(thumbnail_url);
  return s;
}

}  // namespace

TEST_CASE("openai provider: the thumbnail is the content route's thumbnail variant", "[provider]") {
  OpenAiVideosProvider p(config_for(Dialect::openai));
  auto req = p.thumbnail_request("video_a/b", completed());
  REQUIRE(req.has_value());
  CHECK(req->method == "GET");
  CHECK(req->url == "https://api.test/v1/videos/video_a%2Fb/content?variant=thumbnail");
  CHECK(req->with_auth);
  CHECK(req->sink == nullptr);
  REQUIRE(req->headers.size() == 1);
  CHECK(req->headers[0].name == "Accept");
  CHECK(req->headers[0].value == "image/webp");
}

TEST_CASE("openai provider: a gateway's thumbnail_url is followed as given", "[provider]") {
  OpenAiVideosProvider p(config_for(Dialect::openai));
  auto req = p.thumbnail_request("video_a", completed("https://cdn.test/t.webp?sig=2"));
  REQUIRE(req.has_value());
  CHECK(req->url == "https://cdn.test/t.webp?sig=2");
  // Marked like the video download: the transport sends the key to the provider's origin only.
  CHECK(req->with_auth);
}

TEST_CASE("unified provider: the thumbnail is the answer's signed URL, without the key",
          "[provider]") {
  UnifiedTaskProvider p(config_for(Dialect::unified));
  CHECK_FALSE(p.thumbnail_request("sora-2:task_1", completed()).has_value());
  auto req = p.thumbnail_request("sora-2:task_1", completed("https://cdn.test/t.webp?sig=3"));
  REQUIRE(req.has_value());
  CHECK(req->method == "GET");
  CHECK(req->url == "https://cdn.test/t.webp?sig=3");
  CHECK_FALSE(req->with_auth);
}
