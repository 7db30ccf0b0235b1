#include "provider/kling_provider.h"

#include <rapidjson/document.h>
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

constexpr std::string_view k_text2video = "text2video";
constexpr std::string_view k_image2video = "image2video";
constexpr int k_page_size = 100;

Millis millis_at(const rapidjson::Value& object, const char* key) {
  const rapidjson::Value* v = json_member(object, key);
  return v != nullptr && v->IsInt64() ? v->GetInt64() : 0;
}

// Kling's envelope code: 0 = success; a gateway's "success" counts as 0, absent as 0.
std::optional<long> envelope_code(const rapidjson::Value& doc) {
  const rapidjson::Value* code = json_member(doc, "code");
  if (code == nullptr || (code->IsString() && std::string_view(code->GetString()) == "success")) {
    return 0;
  }
  if (code->IsInt64()) {
    return static_cast<long>(code->GetInt64());
  }
  return std::nullopt;  // another word: not Kling's envelope
}

// A Kling task object (data of a query answer, an item of a listing).
RemoteStatus task_status(const rapidjson::Value& task) {
  RemoteStatus s;
  s.raw_status = json_string(task, "task_status");
  s.phase = map_status(s.raw_status);
  s.error_message = json_string(task, "task_status_msg");
  if (s.phase == RemotePhase::failed) {
    s.error_code = "kling_failed";
  }
  if (const rapidjson::Value* result = json_member(task, "task_result")) {
    if (const rapidjson::Value* videos = json_member(*result, "videos");
        videos != nullptr && videos->IsArray() && !videos->Empty()) {
      s.video_url = json_string((*videos)[0], "url");
    }
  }
  if (s.phase == RemotePhase::completed) {
    s.progress = 100.0;
  }
  return s;
}

// new-api's task record, with the URL of the vendor's own answer inside when it names none.
RemoteStatus record_status(const rapidjson::Value& record) {
  RemoteStatus s = task_record_status(record, "kling_failed");
  if (const rapidjson::Value* inner = json_member(record, "data");
      inner != nullptr && s.video_url.empty()) {
    if (const rapidjson::Value* task = json_member(*inner, "data")) {
      s.video_url = task_status(*task).video_url;
    }
  }
  return s;
}

AnswerClass with(AnswerKind kind, std::string code, std::string detail) {
  return {kind, std::nullopt, std::move(code), std::move(detail)};
}

// What Kling's code means (native-providers.md 1.4), whatever the HTTP status.
AnswerClass classify_code(RequestPhase phase, long code, int http_status, const std::string& what) {
  const std::string name = "kling_" + std::to_string(code);
  if (code >= 1000 && code <= 1004) {
    return with(AnswerKind::stop_run, failure::auth(http_status),
                "Kling refused the credentials (" + what +
                    "); check the access and secret key variables and the base URL");
  }
  if ((code >= 1100 && code <= 1103) || code == 1304) {
    return with(AnswerKind::stop_run, name,
                "Kling refused the account (" + what +
                    "): balance, resource pack, permission "
                    "or IP whitelist; fix it in the Kling console");
  }
  if (code == 1302 || code == 1303) {
    return with(AnswerKind::slow_down, name, what);
  }
  if (code == 1300 || code == 1301) {
    return with(AnswerKind::rejected, "moderation", what);
  }
  if (code >= 1200 && code < 1300) {
    if (phase == RequestPhase::download) {
      return with(AnswerKind::expired, failure::content_expired, what);
    }
    return with(AnswerKind::rejected, name, what);
  }
  if (code >= 5000 && code < 6000) {
    // A refusal with Kling's own code: the task was not created.
    return with(AnswerKind::retry, name, what);
  }
  return with(phase == RequestPhase::submit ? AnswerKind::ambiguous : AnswerKind::retry,
              phase == RequestPhase::submit ? failure::create_ambiguous : name,
              what + " (an unknown Kling code)");
}

}  // namespace

KlingProvider::KlingProvider(ProviderConfig config) : m_config(std::move(config)) {}

std::string_view KlingProvider::family(const JobSpec& spec) {
  return spec.images.empty() ? k_text2video : k_image2video;
}

Status KlingProvider::check(const JobSpec& spec) const {
  if (!spec.model.starts_with("kling-")) {
    return fail(ErrorCode::invalid_input,
                "model: Kling takes its own model names (kling-v1, kling-v1-6, kling-v2-1, "
                "kling-v2-5-turbo, kling-v2-6, kling-v3...), got '" +
                    spec.model + "'");
  }
  if (spec.derived != DerivedKind::none || !spec.characters.empty() ||
      !spec.character_url.empty()) {
    return fail(ErrorCode::invalid_input,
                "Kling has no remix, edit, extension or character route for this job");
  }
  const bool v3 = spec.model.starts_with("kling-v3");
  if (v3 ? (spec.seconds < 3 || spec.seconds > 15) : (spec.seconds != 5 && spec.seconds != 10)) {
    return fail(ErrorCode::invalid_input, "seconds: " + spec.model + " takes " +
                                              (v3 ? "3 to 15" : "5 or 10") + ", got " +
                                              std::to_string(spec.seconds));
  }
  if (auto frames = check_frame_urls(spec, "Kling"); !frames) {
    return frames;
  }
  if (spec.size != "small" && spec.size != "large") {
    return fail(ErrorCode::invalid_input,
                "size: Kling takes small (mode std, 720p) or large (mode pro, 1080p), not '" +
                    spec.size + "'");
  }
  return {};
}

AnswerClass KlingProvider::classify(RequestPhase phase, const HttpResult& result,
                                    Millis now) const {
  if (result.failure != TransportFailure::none) {
    return classify_transport_failure(phase, result);
  }
  const int s = result.response.status;
  if (phase == RequestPhase::download) {
    return classify_openai_answer(phase, result, now);  // a CDN's answer, not Kling's
  }
  auto doc = parse_object(result.response.body);
  std::optional<long> code = doc ? envelope_code(*doc) : std::nullopt;
  if (!code || (*code == 0 && s >= 300)) {
    // A gateway's own answer (OpenAI envelope, HTML page): read as the OpenAI format.
    return classify_openai_answer(phase, result, now);
  }
  if (*code == 0) {
    return {};
  }
  const std::string what = "HTTP " + std::to_string(s) + ", Kling code " + std::to_string(*code) +
                           ": " + json_string(*doc, "message").substr(0, 300);
  return classify_code(phase, *code, s, what);
}

Result<HttpRequest> KlingProvider::create_request(const JobSpec& spec,
                                                  const CreateContext& context) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* key, const std::string& value) { json_put(w, key, value); };
  w.StartObject();
  str("model_name", spec.model);
  str("prompt", spec.prompt);
  str("duration", std::to_string(spec.seconds));  // a string in Kling's schema
  if (!has_param(spec, "mode")) {
    str("mode", spec.size == "large" ? "pro" : "std");
  }
  // Always explicit: new-api's relay defaults to 1:1, not Kling's 16:9.
  str("aspect_ratio", spec.orientation == Orientation::portrait ? "9:16" : "16:9");
  if (!spec.images.empty()) {
    str("image", spec.images[0]);
  }
  if (spec.images.size() > 1) {
    str("image_tail", spec.images[1]);
  }
  if (!context.job_key.empty()) {
    str("external_task_id", context.job_key);
  }
  write_params(w, Dialect::kling, spec);
  w.EndObject();

  return json_post(m_config.base_url + "/v1/videos/" + std::string(family(spec)),
                   {buf.GetString(), buf.GetSize()});
}

Result<CreateAnswer> KlingProvider::parse_create(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  CreateAnswer answer;
  if (const rapidjson::Value* data = json_member(doc, "data");
      data != nullptr && data->IsObject()) {
    answer.remote_id = json_string(*data, "task_id");
    answer.status = task_status(*data);
  } else {
    // A gateway's OpenAI video object: {id, object: "video", status: "queued"}.
    answer.remote_id = json_string(doc, "id");
    answer.status.raw_status = json_string(doc, "status");
    answer.status.phase = map_status(answer.status.raw_status);
  }
  if (answer.remote_id.empty()) {
    return fail(ErrorCode::protocol,
                "the create answer names no task id: " + error_message_from_body(response.body));
  }
  if (answer.status.phase == RemotePhase::unknown) {
    answer.status.phase = RemotePhase::queued;
  }
  return answer;
}

HttpRequest KlingProvider::query_request(const JobSpec& spec, const std::string& remote_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/v1/videos/" + std::string(family(spec)) + "/" +
            encode_path_segment(remote_id);
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> KlingProvider::parse_query(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  const rapidjson::Value* data = json_member(doc, "data");
  if (data == nullptr || !data->IsObject()) {
    return fail(ErrorCode::protocol,
                "the query answer has no task: " + error_message_from_body(response.body));
  }
  RemoteStatus status = is_task_record(*data, "task_status") ? record_status(*data)
                                                             : task_status(*data);
  if (status.raw_status.empty()) {
    return fail(ErrorCode::protocol, "the query answer has no task status");
  }
  if (status.phase == RemotePhase::completed && status.video_url.empty()) {
    return fail(ErrorCode::protocol, "the task succeeded but its answer names no video URL");
  }
  return status;
}

HttpRequest KlingProvider::download_request(const std::string&, const RemoteStatus& status) const {
  HttpRequest req;
  req.url = status.video_url;
  req.with_auth = true;  // dropped by the transport: the CDN is another origin
  return req;
}

Result<std::string> KlingProvider::parse_content_redirect(std::string_view body) const {
  return fail(ErrorCode::protocol, "Kling's video URL answered JSON instead of the video: " +
                                       error_message_from_body(body));
}

HttpRequest KlingProvider::list_request(const std::string& after_id) const {
  std::string cursor = after_id.empty() ? std::string(k_text2video) + ":1" : after_id;
  const auto colon = cursor.find(':');
  HttpRequest req;
  req.url = m_config.base_url + "/v1/videos/" + cursor.substr(0, colon) +
            "?pageNum=" + cursor.substr(colon + 1) + "&pageSize=" + std::to_string(k_page_size);
  req.with_auth = true;
  return req;
}

Result<RemotePage> KlingProvider::parse_list(const std::string& after_id,
                                             const HttpResponse& response) const {
  const std::string cursor = after_id.empty() ? std::string(k_text2video) + ":1" : after_id;
  const auto colon = cursor.find(':');
  const std::string family_path = cursor.substr(0, colon);
  int page_number = 1;
  std::from_chars(cursor.data() + colon + 1, cursor.data() + cursor.size(), page_number);
  auto doc = VB_TRY(parse_object(response.body));
  const rapidjson::Value* data = json_member(doc, "data");
  if (data == nullptr || !data->IsArray()) {
    return fail(ErrorCode::protocol,
                "the listing has no task list: " + error_message_from_body(response.body));
  }
  RemotePage page;
  for (const auto& task : data->GetArray()) {
    RemoteVideo video;
    video.id = json_string(task, "task_id");
    if (video.id.empty()) {
      continue;
    }
    if (const rapidjson::Value* info = json_member(task, "task_info")) {
      video.job_key = json_string(*info, "external_task_id");
    }
    video.created_at = millis_at(task, "created_at");
    video.status = task_status(task);
    page.videos.push_back(std::move(video));
  }
  const bool full = data->Size() >= static_cast<rapidjson::SizeType>(k_page_size);
  if (family_path == k_text2video) {
    // Then the image2video family: the text2video dates bound nothing of it.
    page.partial = true;
    page.has_more = true;
    page.last_id = full ? std::string(k_text2video) + ":" + std::to_string(page_number + 1)
                        : std::string(k_image2video) + ":1";
  } else {
    page.has_more = full;
    page.last_id = std::string(k_image2video) + ":" + std::to_string(page_number + 1);
  }
  return page;
}

bool KlingProvider::matches(const JobSpec&, const std::string& job_key,
                            const RemoteVideo& video) const {
  return !job_key.empty() && video.job_key == job_key;
}

Result<std::string> KlingProvider::parse_character(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "Kling has no character route");
}

}  // namespace vb
