// [provider] Each dialect classifies its own answers (provider/answer_class.h). The money
// rule lives here: a paid request is sent again only when the answer proves it was refused
// before any work; whatever a gateway in front of the provider may have answered after the
// work was done is ambiguous.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "provider/provider_answers.h"
#include "provider/registry.h"

using namespace vb;
using namespace vb::provider_test;

namespace {

const std::string k_openai_429 =
    R"({"error":{"message":"Rate limit reached for sora-2","type":"requests","code":"rate_limit_exceeded"}})";
const std::string k_quota =
    R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})";
const std::string k_overloaded =
    R"({"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error"}})";
const std::string k_server_error =
    R"({"error":{"message":"The server had an error processing your request","type":"server_error"}})";
const std::string k_new_api_upstream =
    R"({"error":{"message":"do request failed: Post \"https://api.openai.com/v1/videos\": EOF","type":"new_api_error","param":"","code":"do_request_failed"}})";
const std::string k_html_502 =
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx</center></body></html>";
const std::string k_cloudflare_524 =
    "<!DOCTYPE html><html><head><title>api.example.com | 524: A timeout occurred</title>";
const std::string k_invalid =
    R"({"error":{"message":"Invalid value for 'seconds'","type":"invalid_request_error"}})";

const std::vector<AnswerRow>& rows() {
  using P = RequestPhase;
  using K = AnswerKind;
  using TF = TransportFailure;
  static const std::vector<AnswerRow> table = {
      {"created", P::submit, answered(200, "{}"), K::ok, ""},
      // Never reached the server: safe to send again.
      {"not sent", P::submit, lost(TF::not_sent), K::retry, "not_sent"},
      // The request left and no answer came: it may have made a video.
      {"timeout", P::submit, lost(TF::timeout), K::ambiguous, "create_ambiguous"},
      {"reset", P::submit, lost(TF::connection_lost), K::ambiguous, "create_ambiguous"},
      {"too large", P::submit, lost(TF::too_large), K::ambiguous, "create_ambiguous"},
      {"other", P::submit, lost(TF::other), K::ambiguous, "create_ambiguous"},
      // Refused before any work.
      {"429", P::submit, answered(429, k_openai_429), K::slow_down, "http_429"},
      {"429 html", P::submit, answered(429, "Too Many Requests"), K::slow_down, "http_429"},
      {"408", P::submit, answered(408), K::retry, "http_408"},
      {"409", P::submit, answered(409, "{}"), K::retry, "http_409"},
      {"503 overloaded", P::submit, answered(503, k_overloaded), K::slow_down, "http_503"},
      // A gateway may have passed the create on before this answer: ambiguous.
      {"500 provider error", P::submit, answered(500, k_server_error), K::ambiguous,
       "create_ambiguous"},
      {"500 new-api upstream", P::submit, answered(500, k_new_api_upstream), K::ambiguous,
       "create_ambiguous"},
      {"502 html", P::submit, answered(502, k_html_502), K::ambiguous, "create_ambiguous"},
      {"503 html overloaded", P::submit, answered(503, "<html>overloaded</html>"), K::ambiguous,
       "create_ambiguous"},
      {"504 empty", P::submit, answered(504), K::ambiguous, "create_ambiguous"},
      {"520", P::submit, answered(520, k_cloudflare_524), K::ambiguous, "create_ambiguous"},
      {"524", P::submit, answered(524, k_cloudflare_524), K::ambiguous, "create_ambiguous"},
      // Refused for good.
      {"400", P::submit, answered(400, k_invalid), K::rejected, "http_400"},
      {"404", P::submit, answered(404, "{}"), K::rejected, "http_404"},
      {"422", P::submit, answered(422), K::rejected, "http_422"},
      {"307", P::submit, answered(307, "", {{"location", "https://elsewhere/v1/videos"}}),
       K::rejected, "http_307"},
      {"401", P::submit, answered(401, "{}"), K::stop_run, "auth_401"},
      {"403", P::submit, answered(403), K::stop_run, "auth_403"},
      {"no quota", P::submit, answered(429, k_quota), K::stop_run, "insufficient_quota"},
      // Polls are idempotent: every transient failure is retried.
      {"poll ok", P::poll, answered(200, "{}"), K::ok, ""},
      {"poll timeout", P::poll, lost(TF::timeout), K::retry, "timeout"},
      {"poll reset", P::poll, lost(TF::connection_lost), K::retry, "connection_lost"},
      {"poll 500", P::poll, answered(500, k_server_error), K::retry, "http_500"},
      {"poll 502", P::poll, answered(502, k_html_502), K::retry, "http_502"},
      {"poll 429", P::poll, answered(429, k_openai_429), K::slow_down, "http_429"},
      {"poll 404", P::poll, answered(404, "{}"), K::rejected, "http_404"},
      {"poll 401", P::poll, answered(401), K::stop_run, "auth_401"},
      // Downloads: a refused URL has expired; ask for a fresh one.
      {"download reset", P::download, lost(TF::connection_lost), K::retry, "connection_lost"},
      {"download 503", P::download, answered(503), K::retry, "http_503"},
      {"download 401", P::download, answered(401), K::expired, "content_expired"},
      {"download 403", P::download, answered(403), K::expired, "content_expired"},
      {"download 404", P::download, answered(404), K::expired, "content_expired"},
      {"download 410", P::download, answered(410), K::expired, "content_expired"},
      {"download 416", P::download, answered(416), K::rejected, "http_416"},
      {"download disk", P::download, lost(TF::sink_failed), K::rejected, "disk_write_failed"},
      // Listings: none here, or a passing failure.
      {"list 404", P::list, answered(404), K::rejected, "http_404"},
      {"list 405", P::list, answered(405), K::rejected, "http_405"},
      {"list 501", P::list, answered(501), K::rejected, "http_501"},
      {"list 500", P::list, answered(500), K::retry, "http_500"},
  };
  return table;
}

}  // namespace

TEST_CASE("answer classes of the openai and unified dialects", "[provider]") {
  for (Dialect dialect : {Dialect::openai, Dialect::unified}) {
    ProviderConfig config;
    config.dialect = dialect;
    auto provider = make_provider(config);
    for (const AnswerRow& row : rows()) {
      INFO(to_string(dialect) << ": " << row.what << " (" << to_string(row.phase) << ")");
      AnswerClass c = provider->classify(row.phase, row.result, 0);
      CHECK(std::string(to_string(c.kind)) == to_string(row.kind));
      CHECK(c.code == row.code);
      if (c.kind != AnswerKind::ok) {
        CHECK_FALSE(c.detail.empty());
      }
    }
  }
}

TEST_CASE("answer classes carry the provider's words and hint", "[provider]") {
  ProviderConfig config;
  auto provider = make_provider(config);
  auto c = provider->classify(RequestPhase::submit,
                              answered(429, k_openai_429, {{"retry-after-ms", "2500"}}), 0);
  CHECK(c.detail == "HTTP 429: Rate limit reached for sora-2");
  REQUIRE(c.retry_after.has_value());
  CHECK(*c.retry_after == 2500);
  // An HTML page says what it is, bounded and printable.
  c = provider->classify(RequestPhase::submit, answered(502, k_html_502), 0);
  CHECK(c.detail.starts_with("HTTP 502: <html><head><title>502 Bad Gateway"));
  CHECK(c.detail.find("may have started the video") != std::string::npos);
  c = provider->classify(RequestPhase::submit, answered(307, "", {{"location", "https://x/v1"}}),
                         0);
  CHECK(c.detail.find("redirected the request to https://x/v1") != std::string::npos);
  // A half-read answer: the transport failure decides, whatever status arrived.
  HttpResult half = lost(TransportFailure::connection_lost);
  half.response.status = 200;
  CHECK(provider->classify(RequestPhase::submit, half, 0).kind == AnswerKind::ambiguous);
}
