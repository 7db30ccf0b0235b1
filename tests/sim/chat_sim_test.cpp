// vidbatch-sim --dialect chat over real sockets: the streamed chat completion (progress deltas,
// then a markdown link, then [DONE]), the non-streamed answer, a stream cut after the request left,
// OpenAI-style refusals and a wire fault in front.
#include "sim/native_sim.h"
#include "support/fake_fs.h"

#include <catch2/catch.hpp>

#include <regex>

using namespace vidbatch::test;

namespace {

const std::string k_chat_key = "Authorization: Bearer sk-chat";
const std::string k_stream =
    R"({"model":"sora-2","stream":true,"messages":[{"role":"system","content":"be brief"},)"
    R"({"role":"user","content":[{"type":"text","text":"a whale"},)"
    R"({"type":"image_url","image_url":{"url":"https://e.x/a.png"}}]}]})";

std::vector<std::string> chat_flags(std::vector<std::string> extra = {}) {
  return native_sim_flags({"--dialect", "chat", "--require-key", "sk-chat"}, extra);
}

HttpResponse chat(const SimProcess& sim, const std::string& body, long timeout_ms = 10000) {
  HttpRequest request;
  request.method = "POST";
  request.url = sim.base_url() + "/chat/completions";
  request.headers = {k_chat_key, "Content-Type: application/json"};
  request.body = body;
  request.timeout_ms = timeout_ms;
  return http_send(request);
}

// The `data:` payloads of a Server-Sent Events body, in order.
std::vector<std::string> events(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const size_t end = body.find("\n\n", at);
    out.push_back(body.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6));
    at = end == std::string::npos ? body.size() : end;
  }
  return out;
}

// Everything the deltas said, joined.
std::string streamed_text(const std::vector<std::string>& payloads) {
  std::string text;
  for (const auto& payload : payloads) {
    if (payload != "[DONE]") {
      text += member_text(parse_body(payload)["choices"][0]["delta"], "content");
    }
  }
  return text;
}

std::string link_in(const std::string& text) {
  std::smatch match;
  return std::regex_search(text, match, std::regex(R"(\]\((http[^)]+\.mp4[^)]*)\))"))
             ? match[1].str()
             : "";
}

}  // namespace

TEST_CASE("sim chat: a streamed completion reports progress, then links the MP4", "[e2e][sim]") {
  SimProcess sim(chat_flags({"--gen-ms", "600"}));
  const HttpResponse response = chat(sim, k_stream);
  REQUIRE(response.curl_code == 0);
  CHECK(response.status == 200);
  CHECK(response.header("content-type").starts_with("text/event-stream"));
  const auto payloads = events(response.body);
  REQUIRE(payloads.size() >= 4);
  CHECK(payloads.back() == "[DONE]");
  const auto first = parse_body(payloads.front());
  CHECK(member_text(first, "object") == "chat.completion.chunk");
  CHECK(member_text(first["choices"][0]["delta"], "role") == "assistant");
  CHECK(member_text(parse_body(payloads[payloads.size() - 2])["choices"][0], "finish_reason") ==
        "stop");
  const std::string text = streamed_text(payloads);
  CHECK(text.find("Generating: ") != std::string::npos);
  const std::string url = link_in(text);
  REQUIRE(url.starts_with("http://127.0.0.1:" + std::to_string(sim.cdn_port()) + "/files/"));
  const HttpResponse video = http_get(url);
  REQUIRE(video.status == 200);
  CHECK(video.body.substr(4, 4) == "ftyp");
  const auto stats = parse_body(sim.stats());
  CHECK(member_text(stats["videos"][0], "sha256") == vb::fake::reference_sha256(video.body));
  CHECK(stats["creates_by_prompt"]["a whale"].GetInt64() == 1);
  CHECK(stats["auth_headers_seen_on_files"].GetInt64() == 0);
}

TEST_CASE("sim chat: stream false waits for the video and answers one completion", "[e2e][sim]") {
  SimProcess sim(chat_flags());
  const HttpResponse response = chat(
      sim,
      R"({"model":"sora_video2-landscape-15s","messages":[{"role":"user","content":"a whale"}]})");
  REQUIRE(response.status == 200);
  const auto doc = parse_body(response.body);
  CHECK(member_text(doc, "object") == "chat.completion");
  CHECK_FALSE(link_in(member_text(doc["choices"][0]["message"], "content")).empty());
  const HttpResponse failed =
      chat(sim, R"({"model":"sora-2","messages":[{"role":"user","content":"[[fail]] x"}]})");
  const std::string text = member_text(parse_body(failed.body)["choices"][0]["message"], "content");
  CHECK(text.find("failed") != std::string::npos);
  CHECK(link_in(text).empty());
}

TEST_CASE("sim chat: a stream cut after the request left still made its video", "[e2e][sim]") {
  SimProcess sim(chat_flags({"--lose-create-answers", "1"}));
  const HttpResponse cut = chat(sim, k_stream);
  CHECK(cut.curl_code == 18);
  CHECK(link_in(streamed_text(events(cut.body))).empty());
  CHECK(events(cut.body).size() == 3);  // the role, then two progress lines
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 1);
  CHECK(stats["faults_injected"]["lost_create"].GetInt64() == 1);
}

TEST_CASE("sim chat: refusals are OpenAI-shaped; an open stream holds an in-flight slot",
          "[e2e][sim]") {
  SimProcess sim(chat_flags({"--gen-ms", "5000", "--max-in-flight", "1"}));
  const HttpResponse bad_model =
      chat(sim, R"({"model":"gpt-9","stream":true,"messages":[{"role":"user","content":"x"}]})");
  CHECK(bad_model.status == 400);
  CHECK(member_text(parse_body(bad_model.body)["error"], "type") == "invalid_request_error");
  CHECK(chat(sim, R"({"model":"sora-2","messages":[{"role":"system","content":"x"}]})").status ==
        400);
  CHECK(chat(sim, k_stream, 300).curl_code == 28);  // the client gives up; the video generates on
  const HttpResponse second = chat(sim, k_stream);
  CHECK(second.status == 429);
  CHECK(member_text(parse_body(second.body)["error"], "code") == "rate_limit_exceeded");
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 1);
}

TEST_CASE("sim chat: the fault proxy cuts a stream it relays", "[e2e][sim]") {
  SimProcess sim(chat_flags({"--fault", "partial:first=1"}));
  const HttpResponse cut = chat(sim, k_stream);
  CHECK(cut.curl_code != 0);
  CHECK(link_in(cut.body).empty());
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 1);
  CHECK_FALSE(link_in(streamed_text(events(chat(sim, k_stream).body))).empty());
}
