// [provider] MiniMax: errors in HTTP 200 bodies, file_id as a string then a number, the
// resolve step and its URL's expiry.
#include <catch2/catch.hpp>

#include "provider/minimax_provider.h"
#include "provider/provider_answers.h"

using namespace vb;
using namespace vb::provider_test;

namespace {

MiniMaxProvider minimax_provider() {
  ProviderConfig c;
  c.dialect = Dialect::minimax;
  c.base_url = "https://mm.test";
  return MiniMaxProvider(c);
}

}  // namespace

TEST_CASE("minimax: base_resp in a 200 body decides", "[provider]") {
  const MiniMaxProvider p = minimax_provider();
  const auto kind = [&](RequestPhase phase, const char* body) {
    HttpResult r;
    r.response = ok_response(body);
    return p.classify(phase, r, 0).kind;
  };
  const char* fine = R"({"task_id":"1","base_resp":{"status_code":0,"status_msg":"success"}})";
  CHECK(kind(RequestPhase::submit, fine) == AnswerKind::ok);
  CHECK(kind(RequestPhase::submit, R"({"base_resp":{"status_code":1002,"status_msg":"rpm"}})") ==
        AnswerKind::slow_down);
  CHECK(kind(RequestPhase::submit, R"({"base_resp":{"status_code":1008,"status_msg":"x"}})") ==
        AnswerKind::stop_run);
  CHECK(kind(RequestPhase::submit, R"({"base_resp":{"status_code":1026,"status_msg":"x"}})") ==
        AnswerKind::rejected);
  CHECK(kind(RequestPhase::poll, R"({"base_resp":{"status_code":2013,"status_msg":"x"}})") ==
        AnswerKind::rejected);
}

TEST_CASE("minimax: task -> file_id -> files/retrieve -> URL", "[provider]") {
  const MiniMaxProvider p = minimax_provider();
  CHECK(p.query_request({}, "176843862716480").url ==
        "https://mm.test/v1/query/video_generation?task_id=176843862716480");
  auto status =
      p.parse_query(ok_response(R"({"task_id":"1","status":"Success","file_id":"176844028768320",)"
                                R"("base_resp":{"status_code":0,"status_msg":"success"}})"));
  REQUIRE(status.has_value());
  CHECK(status->phase == RemotePhase::completed);
  CHECK(status->video_url.empty());
  auto resolve = p.resolve_request(*status);
  REQUIRE(resolve.has_value());
  CHECK(resolve->url == "https://mm.test/v1/files/retrieve?file_id=176844028768320");
  auto resolved = p.parse_resolve(
      ok_response(
          R"({"file":{"file_id":176844028768320,"bytes":0,"download_url":)"
          R"("https://cdn.test/o.mp4?Expires=1755538199&Signature=s"},"base_resp":{"status_code":0}})"),
      *status);
  REQUIRE(resolved.has_value());
  CHECK(resolved->video_url == "https://cdn.test/o.mp4?Expires=1755538199&Signature=s");
  REQUIRE(resolved->expires_at.has_value());
  CHECK(*resolved->expires_at == 1755538199000);
  CHECK_FALSE(p.resolve_request(*resolved).has_value());  // the URL is known: download
}
