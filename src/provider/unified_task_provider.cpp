#include "provider/unified_task_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "provider/answer_parser.h"
#include "provider/gateway_fields.h"
#include "provider/openai_answers.h"

namespace vb {

namespace {

bool is_url(const std::string& s) {
  return s.starts_with("https://") || s.starts_with("http://");
}

std::string query_escape(std::string_view text) {
  // ':' stays: the ids look like "sora-2:task_01k..." and gateways expect them verbatim.
  return encode_path_segment(text);
}

}  // namespace

UnifiedTaskProvider::UnifiedTaskProvider(ProviderConfig config) : m_config(std::move(config)) {}

AnswerClass UnifiedTaskProvider::classify(RequestPhase phase, const HttpResult& result,
                                          Millis now) const {
  return classify_openai_answer(phase, result, now);
}

Status UnifiedTaskProvider::check(const JobSpec& spec) const {
  if (spec.derived != DerivedKind::none) {
    return fail(ErrorCode::invalid_input,
                std::string(to_string(spec.derived)) +
                    ": the unified task format has no remix, edit or extension route; give this "
                    "job a provider with dialect = \"openai\"");
  }
  if (!spec.characters.empty()) {
    return fail(ErrorCode::invalid_input,
                "characters: the unified task format has no character route; use "
                "character_url and character_timestamps");
  }
  for (const auto& image : spec.images) {
    if (!is_url(image)) {
      return fail(ErrorCode::invalid_input,
                  "images: '" + image +
                      "' is a local file, but the unified format takes image "
                      "URLs only (upload it somewhere and give its https:// URL)");
    }
  }
  if (spec.size != "small" && spec.size != "large") {
    return fail(ErrorCode::invalid_input,
                "size: the unified format takes small or large, not '" + spec.size + "'");
  }
  bool pro = spec.model.starts_with("sora-2-pro");
  if (spec.model.starts_with("sora-2")) {
    int s = spec.seconds;
    if (s != 10 && s != 15 && !(s == 25 && pro)) {
      return fail(ErrorCode::invalid_input,
                  "seconds: the unified format's " + spec.model + " takes 10 or 15" +
                      (pro ? " or 25" : " (25 needs sora-2-pro)") + ", got " + std::to_string(s));
    }
    if (spec.size == "large" && !pro) {
      return fail(ErrorCode::invalid_input, "size: large needs sora-2-pro");
    }
  }
  return {};
}

Result<HttpRequest> UnifiedTaskProvider::create_request(const JobSpec& spec,
                                                        const CreateContext&) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("model", spec.model);
  str("prompt", spec.prompt);
  w.Key("images");
  w.StartArray();
  for (const auto& image : spec.images) {
    w.String(image.c_str(), static_cast<rapidjson::SizeType>(image.size()));
  }
  w.EndArray();
  str("orientation", to_string(spec.orientation));
  str("size", spec.size);
  w.Key("duration");
  w.Int(spec.seconds);
  write_gateway_fields(w, spec);
  w.EndObject();

  return json_post(m_config.base_url + "/video/create", {buf.GetString(), buf.GetSize()});
}

Result<CreateAnswer> UnifiedTaskProvider::parse_create(const HttpResponse& response) const {
  auto id = VB_TRY(parse_answer_id(response.body));
  CreateAnswer answer{id, {}};
  auto status = parse_status_answer(response.body);
  answer.status = status ? *status : RemoteStatus{};
  if (!status) {
    answer.status.phase = RemotePhase::queued;
  }
  return answer;
}

HttpRequest UnifiedTaskProvider::query_request(const JobSpec&, const std::string& remote_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/video/query?id=" + query_escape(remote_id);
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> UnifiedTaskProvider::parse_query(const HttpResponse& response) const {
  auto status = parse_status_answer(response.body);
  if (status && status->phase == RemotePhase::completed && status->video_url.empty()) {
    return fail(ErrorCode::protocol, "the task is completed but its answer names no video URL");
  }
  return status;
}

HttpRequest UnifiedTaskProvider::download_request(const std::string&,
                                                  const RemoteStatus& status) const {
  HttpRequest req;
  req.url = status.video_url;
  req.with_auth = true;  // dropped by the transport: the signed URL is on another origin
  return req;
}

// Only the query answer's signed `thumbnail_url` (another origin): no key needed.
std::optional<HttpRequest> UnifiedTaskProvider::thumbnail_request(
    const std::string&, const RemoteStatus& status) const {
  if (status.thumbnail_url.empty()) {
    return std::nullopt;
  }
  HttpRequest req;
  req.url = status.thumbnail_url;
  return req;
}

Result<std::string> UnifiedTaskProvider::parse_content_redirect(std::string_view body) const {
  std::string url = find_video_url(body);
  if (url.empty()) {
    return fail(ErrorCode::protocol,
                "a JSON answer without a video URL: " + error_message_from_body(body));
  }
  return url;
}

HttpRequest UnifiedTaskProvider::list_request(const std::string&) const {
  return {};  // never called: can_list() is false
}

Result<RemotePage> UnifiedTaskProvider::parse_list(const std::string&, const HttpResponse&) const {
  return fail(ErrorCode::protocol, "the unified format has no video listing");
}

bool UnifiedTaskProvider::matches(const JobSpec&, const std::string&, const RemoteVideo&) const {
  return false;
}

HttpRequest UnifiedTaskProvider::character_request(const std::string&, const std::string&) const {
  return {};  // never called: can_create_characters() is false
}

Result<std::string> UnifiedTaskProvider::parse_character(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "the unified format has no character route");
}

}  // namespace vb
