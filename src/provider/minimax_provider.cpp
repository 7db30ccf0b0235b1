#include "provider/minimax_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

#include "job/failure_codes.h"
#include "provider/answer_parser.h"
#include "provider/native_answers.h"
#include "provider/openai_answers.h"
#include "provider/vendor_params.h"

namespace vb {

namespace {

bool is_url(const std::string& s) {
  return s.starts_with("https://") || s.starts_with("http://");
}

// The 01 models are fixed at 6 s / 720P and refuse both parameters.
bool fixed_length(const std::string& model) {
  return !model.starts_with("MiniMax-Hailuo");
}

// base_resp.status_code; nullopt when the body has none (a gateway's own answer).
std::optional<long> base_code(const rapidjson::Value& doc, std::string& message) {
  const rapidjson::Value* base = json_member(doc, "base_resp");
  const rapidjson::Value* code = base == nullptr ? nullptr : json_member(*base, "status_code");
  if (code == nullptr || !code->IsInt64()) {
    return std::nullopt;
  }
  message = json_string(*base, "status_msg");
  return static_cast<long>(code->GetInt64());
}

// A string or a number, as text: file_id is a string in the query, a number in files/retrieve.
std::string id_text(const rapidjson::Value& object, const char* key) {
  const rapidjson::Value* v = json_member(object, key);
  if (v != nullptr && v->IsUint64()) {
    return std::to_string(v->GetUint64());
  }
  return json_string(object, key);
}

AnswerClass with(AnswerKind kind, std::string code, std::string detail) {
  return {kind, std::nullopt, std::move(code), std::move(detail)};
}

// What MiniMax's base_resp code means (native-providers.md 3.3).
AnswerClass classify_code(RequestPhase phase, long code, const std::string& what) {
  const std::string name = "minimax_" + std::to_string(code);
  switch (code) {
    case 1002:
    case 1039:
      return with(AnswerKind::slow_down, name, what);
    case 1004:
    case 2049:
      return with(AnswerKind::stop_run, failure::auth(401),
                  "MiniMax refused the API key (" + what +
                      "); check the key variable and base URL");
    case 1008:
    case 2056:
      return with(AnswerKind::stop_run, failure::insufficient_quota,
                  "MiniMax says the account has no balance or quota left (" + what + ")");
    case 1026:
    case 1027:
      return with(AnswerKind::rejected, "moderation", what);
    case 2013:
      return with(phase == RequestPhase::download ? AnswerKind::expired : AnswerKind::rejected,
                  name, what);
    case 1000:
    case 1001:
    case 1024:
      return with(AnswerKind::retry, name, what);  // refused with a code: no task was made
    default:
      return with(phase == RequestPhase::submit ? AnswerKind::ambiguous : AnswerKind::retry,
                  phase == RequestPhase::submit ? failure::create_ambiguous : name,
                  what + " (an unknown MiniMax code)");
  }
}

// new-api relays a refused create as {code: "1002", message: "hailuo api error: ...", data: null}
// with HTTP 400: MiniMax's code as a string. nullopt for any other body.
std::optional<long> relayed_code(const rapidjson::Value& doc) {
  const rapidjson::Value* code = json_member(doc, "code");
  if (code == nullptr || !code->IsString()) {
    return std::nullopt;
  }
  const std::string_view text = code->GetString();
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// A MiniMax task in a gateway's task record: the URL is the record's result_url (new-api), else
// the files/retrieve answer yunwu merges into its data, else a file_id still to resolve. (yunwu
// also puts the file_id in fail_reason on success; the merged data says it plainly.)
RemoteStatus record_status(const rapidjson::Value& record) {
  RemoteStatus s = task_record_status(record, "minimax_failed");
  if (s.phase != RemotePhase::completed) {
    return s;
  }
  s.progress = 100.0;
  const rapidjson::Value* inner = json_member(record, "data");
  if (const rapidjson::Value* file = inner == nullptr ? nullptr : json_member(*inner, "file");
      s.video_url.empty() && file != nullptr) {
    s.video_url = json_string(*file, "download_url");
  }
  if (!is_url(s.video_url)) {
    s.video_url.clear();
    s.file_id = inner == nullptr ? "" : id_text(*inner, "file_id");
  }
  s.expires_at = url_expiry(s.video_url);
  return s;
}

}  // namespace

MiniMaxProvider::MiniMaxProvider(ProviderConfig config) : m_config(std::move(config)) {}

Status MiniMaxProvider::check(const JobSpec& spec) const {
  if (spec.derived != DerivedKind::none || !spec.characters.empty() ||
      !spec.character_url.empty()) {
    return fail(ErrorCode::invalid_input,
                "MiniMax has no remix, edit, extension or character route for this job");
  }
  if (fixed_length(spec.model) ? spec.seconds != 6 : (spec.seconds != 6 && spec.seconds != 10)) {
    return fail(ErrorCode::invalid_input, "seconds: " + spec.model + " takes " +
                                              (fixed_length(spec.model) ? "6" : "6 or 10") +
                                              ", got " + std::to_string(spec.seconds));
  }
  if (spec.size != "small" && spec.size != "large") {
    return fail(ErrorCode::invalid_input,
                "size: MiniMax takes small (768P) or large (1080P), not '" + spec.size + "'");
  }
  if (spec.size == "large" && spec.seconds == 10) {
    return fail(ErrorCode::invalid_input,
                "seconds: MiniMax makes 10 s videos at 768P only "
                "(size small)");
  }
  if (auto frames = check_frame_urls(spec, "MiniMax"); !frames) {
    return frames;
  }
  if (spec.images.empty() && spec.orientation == Orientation::portrait) {
    return fail(ErrorCode::invalid_input,
                "orientation: MiniMax text-to-video has no aspect ratio to ask for; a portrait "
                "video needs a portrait first-frame image");
  }
  return {};
}

AnswerClass MiniMaxProvider::classify(RequestPhase phase, const HttpResult& result,
                                      Millis now) const {
  if (result.failure != TransportFailure::none) {
    return classify_transport_failure(phase, result);
  }
  auto doc = parse_object(result.response.body);
  if (phase == RequestPhase::download || result.response.status != 200) {
    if (auto relayed = doc && phase != RequestPhase::download ? relayed_code(*doc) : std::nullopt) {
      return classify_code(phase, *relayed,
                           "MiniMax code " + std::to_string(*relayed) + " relayed by a gateway: " +
                               json_string(*doc, "message").substr(0, 300));
    }
    return classify_openai_answer(phase, result, now);  // a CDN's or a gateway's own answer
  }
  std::string message;
  std::optional<long> code = doc ? base_code(*doc, message) : std::nullopt;
  if (!code || *code == 0) {
    return {};
  }
  return classify_code(phase, *code,
                       "MiniMax code " + std::to_string(*code) + ": " + message.substr(0, 300));
}

Result<HttpRequest> MiniMaxProvider::create_request(const JobSpec& spec,
                                                    const CreateContext&) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* key, const std::string& value) { json_put(w, key, value); };
  w.StartObject();
  str("model", spec.model);
  str("prompt", spec.prompt);
  if (!fixed_length(spec.model)) {
    w.Key("duration");
    w.Int(spec.seconds);
    str("resolution", spec.size == "large" ? "1080P" : "768P");
  }
  if (!spec.images.empty()) {
    str("first_frame_image", spec.images[0]);
  }
  if (spec.images.size() > 1) {
    str("last_frame_image", spec.images[1]);
  }
  write_params(w, Dialect::minimax, spec);
  w.EndObject();
  return json_post(m_config.base_url + "/v1/video_generation", {buf.GetString(), buf.GetSize()});
}

Result<CreateAnswer> MiniMaxProvider::parse_create(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  CreateAnswer answer;
  // A gateway's OpenAI video object: its `id` is what the gateway's query takes.
  const bool video_object = json_string(doc, "object") == "video";
  answer.remote_id = json_string(doc, video_object ? "id" : "task_id");
  if (answer.remote_id.empty()) {
    answer.remote_id = json_string(doc, video_object ? "task_id" : "id");
  }
  if (answer.remote_id.empty()) {
    return fail(ErrorCode::protocol,
                "the create answer names no task id: " + error_message_from_body(response.body));
  }
  answer.status.phase = RemotePhase::queued;
  return answer;
}

HttpRequest MiniMaxProvider::query_request(const JobSpec&, const std::string& remote_id) const {
  HttpRequest req;
  req.url =
      m_config.base_url + "/v1/query/video_generation?task_id=" + encode_path_segment(remote_id);
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> MiniMaxProvider::parse_query(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  if (const rapidjson::Value* data = json_member(doc, "data");
      data != nullptr && data->IsObject() && json_member(doc, "status") == nullptr &&
      is_task_record(*data, "base_resp")) {
    RemoteStatus s = record_status(*data);
    if (s.phase == RemotePhase::completed && s.video_url.empty() && s.file_id.empty()) {
      return fail(ErrorCode::protocol,
                  "the gateway's task record says SUCCESS but names no "
                  "download URL or file_id");
    }
    return s;
  }
  RemoteStatus s;
  s.raw_status = json_string(doc, "status");
  if (s.raw_status.empty()) {
    return fail(ErrorCode::protocol,
                "the query answer has no status: " + error_message_from_body(response.body));
  }
  s.phase = map_status(s.raw_status);
  if (s.phase == RemotePhase::failed) {
    std::string message;
    const auto code = base_code(doc, message);
    s.error_code = code && *code == 1027 ? "moderation" : "minimax_failed";
    s.error_message = message;
  }
  if (s.phase == RemotePhase::completed) {
    s.progress = 100.0;
    s.file_id = id_text(doc, "file_id");
    if (s.file_id.empty()) {
      return fail(ErrorCode::protocol, "the task succeeded but its answer names no file_id");
    }
  }
  return s;
}

std::optional<HttpRequest> MiniMaxProvider::resolve_request(const RemoteStatus& status) const {
  if (!status.video_url.empty() || status.file_id.empty()) {
    return std::nullopt;
  }
  HttpRequest req;
  req.url = m_config.base_url + "/v1/files/retrieve?file_id=" + encode_path_segment(status.file_id);
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> MiniMaxProvider::parse_resolve(const HttpResponse& response,
                                                    RemoteStatus status) const {
  auto doc = VB_TRY(parse_object(response.body));
  const rapidjson::Value* file = json_member(doc, "file");
  const std::string url = file == nullptr ? "" : json_string(*file, "download_url");
  if (!is_url(url)) {
    return fail(ErrorCode::protocol,
                "files/retrieve names no download_url: " + error_message_from_body(response.body));
  }
  status.video_url = url;
  status.expires_at = url_expiry(url);
  return status;
}

HttpRequest MiniMaxProvider::download_request(const std::string&,
                                              const RemoteStatus& status) const {
  HttpRequest req;
  req.url = status.video_url;
  req.with_auth = true;  // dropped by the transport: the CDN is another origin
  return req;
}

Result<std::string> MiniMaxProvider::parse_content_redirect(std::string_view body) const {
  return fail(ErrorCode::protocol, "MiniMax's download URL answered JSON instead of the video: " +
                                       error_message_from_body(body));
}

Result<RemotePage> MiniMaxProvider::parse_list(const std::string&, const HttpResponse&) const {
  return fail(ErrorCode::protocol, "MiniMax v1 has no video listing");
}

Result<std::string> MiniMaxProvider::parse_character(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "MiniMax has no character route");
}

}  // namespace vb
