// [provider] chat: what a streamed chat completion means (classify table), the link read out of
// the assistant's words, progress from the deltas, and the manifest fields the route can carry.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "provider/chat_provider.h"

using namespace vb;

namespace {

ChatProvider chat_provider() {
  ProviderConfig c;
  c.dialect = Dialect::chat;
  c.base_url = "https://gw.test/v1";
  return ChatProvider(c);
}

std::string chunk(const std::string& content) {
  return R"(data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,)"
         R"("delta":{"content":")" +
         content +
         R"("},"finish_reason":null}]})"
         "\n\n";
}

const std::string k_role =
    R"(data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant"},)"
    R"("finish_reason":null}]})"
    "\n\n";
const std::string k_stop =
    R"(data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
    "\n\ndata: [DONE]\n\n";
const std::string k_link =
    "\\n\\nvideo generated successful,[click here](https://cdn.test/v.mp4?sig=1)";

HttpResult answer(int status, std::string body, TransportFailure failure = TransportFailure::none) {
  HttpResult r;
  r.failure = failure;
  r.response.status = status;
  r.response.body = std::move(body);
  return r;
}

std::string error_event(const std::string& type, const std::string& code,
                        const std::string& message) {
  return R"(data: {"error":{"message":")" + message + R"(","type":")" + type + R"(","code":")" +
         code +
         R"("}})"
         "\n\n";
}

JobSpec spec(const std::string& model, int seconds, Orientation orientation,
             const std::string& size) {
  JobSpec s;
  s.id = "a";
  s.prompt = "a whale";
  s.model = model;
  s.seconds = seconds;
  s.orientation = orientation;
  s.size = size;
  return s;
}

}  // namespace

TEST_CASE("chat: classify table of a streamed create", "[provider][chat]") {
  const ChatProvider p = chat_provider();
  const auto kind = [&](const HttpResult& r) {
    return p.classify(RequestPhase::submit, r, 0).kind;
  };
  const std::string progress = chunk("\\n> Generating: 40%");
  // A whole stream is an answer to read; its error events decide by what they say and when.
  CHECK(kind(answer(200, k_role + progress + chunk(k_link) + k_stop)) == AnswerKind::ok);
  CHECK(kind(answer(200, k_role + error_event("requests", "rate_limit_exceeded", "slow"))) ==
        AnswerKind::slow_down);
  CHECK(kind(answer(200, error_event("insufficient_quota", "insufficient_quota", "no money"))) ==
        AnswerKind::stop_run);
  CHECK(kind(answer(200, error_event("authentication_error", "invalid_api_key", "bad key"))) ==
        AnswerKind::stop_run);
  CHECK(kind(answer(200, error_event("invalid_request_error", "", "bad model"))) ==
        AnswerKind::rejected);
  CHECK(kind(answer(200, error_event("upstream_error", "do_request_failed", "upstream"))) ==
        AnswerKind::ambiguous);
  // After the assistant spoke, a rate-limit word proves nothing: the video may be under way.
  CHECK(
      kind(answer(200, k_role + progress + error_event("requests", "rate_limit_exceeded", "x"))) ==
      AnswerKind::ambiguous);
  CHECK(kind(answer(200, k_role + progress + error_event("", "", "content policy violation"))) ==
        AnswerKind::rejected);
  // HTTP errors before any stream: the gateway's OpenAI envelope.
  CHECK(kind(answer(429, R"({"error":{"message":"slow","code":"rate_limit_exceeded"}})")) ==
        AnswerKind::slow_down);
  CHECK(kind(answer(400, R"({"error":{"message":"no model","type":"invalid_request_error"}})")) ==
        AnswerKind::rejected);
  CHECK(kind(answer(401, R"({"error":{"message":"key"}})")) == AnswerKind::stop_run);
  CHECK(kind(answer(502, "<html>Bad Gateway</html>")) == AnswerKind::ambiguous);
  // A stream cut after the request left, or never answered in time: ambiguous, never resent.
  CHECK(kind(answer(200, k_role + progress, TransportFailure::connection_lost)) ==
        AnswerKind::ambiguous);
  CHECK(kind(answer(0, "", TransportFailure::timeout)) == AnswerKind::ambiguous);
  CHECK(kind(answer(0, "", TransportFailure::not_sent)) == AnswerKind::retry);
  // The link's host refusing the download: expired.
  CHECK(p.classify(RequestPhase::download, answer(403, "expired"), 0).kind == AnswerKind::expired);
}

TEST_CASE("chat: the stream's link is the video and its remote id", "[provider][chat]") {
  const ChatProvider p = chat_provider();
  HttpResponse r;
  r.status = 200;
  r.body =
      k_role + chunk("\\n> Queued: 5%") + chunk("\\n> Generating: 60%") + chunk(k_link) + k_stop;
  auto created = p.parse_create(r);
  REQUIRE(created.has_value());
  CHECK(created->status.phase == RemotePhase::completed);
  CHECK(created->status.video_url == "https://cdn.test/v.mp4?sig=1");
  CHECK(created->remote_id == created->status.video_url);
  const HttpRequest download = p.download_request(created->remote_id, {});
  CHECK(download.url == "https://cdn.test/v.mp4?sig=1");
  CHECK_FALSE(download.with_auth);

  r.body = k_role + chunk("\\n\\nvideo generation failed: moderation_blocked") + k_stop;
  created = p.parse_create(r);
  REQUIRE(created.has_value());
  CHECK(created->status.phase == RemotePhase::failed);
  CHECK(created->status.error_message.find("moderation_blocked") != std::string::npos);

  // Ended (or broke off) without a link or a failure: unreadable, so the engine holds it.
  r.body = k_role + chunk("\\n> Generating: 60%") + k_stop;
  CHECK_FALSE(p.parse_create(r).has_value());
  r.body = k_role + chunk("\\n> Generating: 60%");
  CHECK_FALSE(p.parse_create(r).has_value());

  // A gateway that ignored stream:true answers one chat.completion.
  r.body =
      R"({"id":"chatcmpl-2","object":"chat.completion","choices":[{"index":0,"message":)"
      R"({"role":"assistant","content":"done: https://cdn.test/w.mp4"},"finish_reason":"stop"}]})";
  created = p.parse_create(r);
  REQUIRE(created.has_value());
  CHECK(created->status.video_url == "https://cdn.test/w.mp4");
}

TEST_CASE("chat: progress from the deltas as they arrive", "[provider][chat]") {
  const ChatProvider p = chat_provider();
  CHECK_FALSE(p.stream_progress(k_role).has_value());
  CHECK(p.stream_progress(chunk("\\n> Queued: 5%") + chunk("\\n> Generating: 62%")) == 62.0);
  CHECK(p.stream_progress(chunk("进度 37.5%")) == 37.5);
  CHECK_FALSE(p.stream_progress(chunk("150%")).has_value());
  CHECK(chat_video_url("see [a](not a url) and [b](https://x.test/v.mp4)") ==
        "https://x.test/v.mp4");
  CHECK(chat_video_url("no link here").empty());
}

TEST_CASE("chat: the request carries model, stream and one message", "[provider][chat]") {
  const ChatProvider p = chat_provider();
  JobSpec s = spec("sora_video2", 15, Orientation::landscape, "small");
  s.images = {"https://img.test/a.png"};
  REQUIRE(p.check(s));
  auto request = p.create_request(s, {});
  REQUIRE(request.has_value());
  CHECK(request->url == "https://gw.test/v1/chat/completions");
  CHECK(request->with_auth);
  rapidjson::Document doc;
  doc.Parse(request->body.c_str());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["model"].GetString()) == "sora_video2-landscape-15s");
  CHECK(doc["stream"].GetBool());
  const auto& content = doc["messages"][0]["content"];
  CHECK(std::string(content[0]["text"].GetString()) == "a whale");
  CHECK(std::string(content[1]["image_url"]["url"].GetString()) == "https://img.test/a.png");
  CHECK(p.create_request(spec("sora_video2", 10, Orientation::portrait, "small"), {})
            ->body.find(R"("model":"sora_video2")") != std::string::npos);
}

TEST_CASE("chat: fields the route cannot send are named", "[provider][chat]") {
  const ChatProvider p = chat_provider();
  const auto problem = [&](const JobSpec& s) {
    auto status = p.check(s);
    return status ? std::string() : status.error().message;
  };
  CHECK(problem(spec("sora-2", 10, Orientation::portrait, "small")).empty());
  CHECK(problem(spec("sora-2-pro", 10, Orientation::portrait, "large")).empty());
  CHECK(problem(spec("sora-2", 8, Orientation::portrait, "small")).starts_with("seconds:"));
  CHECK(problem(spec("sora-2", 10, Orientation::landscape, "small")).starts_with("orientation:"));
  CHECK(problem(spec("sora-2-pro", 10, Orientation::portrait, "small")).starts_with("size:"));
  CHECK(problem(spec("sora-2", 10, Orientation::portrait, "1280x720")).starts_with("size:"));
  CHECK(problem(spec("sora_video2", 12, Orientation::landscape, "small")).starts_with("seconds:"));
  CHECK(problem(spec("veo3", 10, Orientation::portrait, "small")).starts_with("model:"));
  JobSpec local = spec("sora-2", 10, Orientation::portrait, "small");
  local.images = {"/tmp/a.png"};
  CHECK(problem(local).starts_with("images:"));
  JobSpec marked = spec("sora-2", 10, Orientation::portrait, "small");
  marked.watermark = false;
  CHECK(problem(marked).starts_with("watermark:"));
}
