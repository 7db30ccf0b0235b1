#include "provider/openai_answers.h"
#include "job/failure_codes.h"

#include <algorithm>
#include <cctype>

#include <rapidjson/document.h>

#include "http/response_headers.h"
#include "provider/video_provider.h"

namespace vb {

namespace {

// The OpenAI error envelope, when the body is one.
struct Envelope {
  bool present = false;
  std::string type;
  std::string code;
  std::string message;
};

std::string string_member(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

Envelope read_envelope(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  Envelope e;
  if (doc.HasParseError() || !doc.IsObject()) {
    return e;
  }
  auto error = doc.FindMember("error");
  if (error == doc.MemberEnd() || !error->value.IsObject()) {
    return e;
  }
  e.present = true;
  e.type = string_member(error->value, "type");
  e.code = string_member(error->value, "code");
  e.message = string_member(error->value, "message");
  return e;
}

bool mentions_overloaded(const Envelope& e) {
  std::string all = e.type + " " + e.code + " " + e.message;
  std::transform(all.begin(), all.end(), all.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return all.find("overloaded") != std::string::npos;
}

AnswerClass with(AnswerKind kind, std::string code, std::string detail) {
  AnswerClass c;
  c.kind = kind;
  c.code = std::move(code);
  c.detail = std::move(detail);
  return c;
}

AnswerClass classify_status(RequestPhase phase, const HttpResult& result, const Envelope& e,
                            const std::string& what) {
  const int s = result.response.status;
  const std::string code = failure::http(s);
  if (phase == RequestPhase::download && (s == 401 || s == 403 || s == 404 || s == 410)) {
    return with(AnswerKind::expired, failure::content_expired,
                "the video could not be downloaded (" + what + "): its content expired or is gone");
  }
  if (phase == RequestPhase::list && (s == 404 || s == 405 || s == 501)) {
    return with(AnswerKind::rejected, code, what);  // no listing here
  }
  if (s == 401 || s == 403) {
    return with(AnswerKind::stop_run, failure::auth(s),
                "the provider refused the API key (" + what +
                    "); check the key variable and the base URL");
  }
  if (s == 429 && e.code == "insufficient_quota") {
    return with(AnswerKind::stop_run, failure::insufficient_quota,
                "the provider says the account has no quota left (" + what + ")");
  }
  if (s == 429) {
    return with(AnswerKind::slow_down, code, what);
  }
  if (s == 408 || s == 409) {
    return with(AnswerKind::retry, code, what);
  }
  if (s >= 300 && s < 400) {
    auto location = result.response.header("location").value_or("nowhere");
    return with(AnswerKind::rejected, code,
                what + ": the provider redirected the request to " + location +
                    "; set base_url to the address it moved to");
  }
  if (s < 500) {
    return with(AnswerKind::rejected, code, what);
  }
  if ((s == 503 || s == 529) && e.present && mentions_overloaded(e)) {
    return with(AnswerKind::slow_down, code, what);
  }
  if (phase == RequestPhase::submit) {
    return with(AnswerKind::ambiguous, failure::create_ambiguous,
                what + "; the provider or a gateway in front of it may have started the video");
  }
  return with(AnswerKind::retry, code, what);
}

}  // namespace

AnswerClass classify_openai_answer(RequestPhase phase, const HttpResult& result, Millis now) {
  if (result.failure != TransportFailure::none) {
    return classify_transport_failure(phase, result);
  }
  const int s = result.response.status;
  if (s >= 200 && s < 300) {
    return {};
  }
  Envelope e = read_envelope(result.response.body);
  std::string what = "HTTP " + std::to_string(s) + ": " +
                     (e.message.empty() ? error_message_from_body(result.response.body)
                                        : e.message.substr(0, 300));
  AnswerClass c = classify_status(phase, result, e, what);
  c.retry_after = parse_retry_after(result.response, now);
  return c;
}

}  // namespace vb
