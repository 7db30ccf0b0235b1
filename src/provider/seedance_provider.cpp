#include "provider/seedance_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>

#include "job/failure_codes.h"
#include "provider/answer_parser.h"
#include "provider/native_answers.h"
#include "provider/openai_answers.h"
#include "provider/vendor_params.h"

namespace vb {

namespace {

constexpr int k_page_size = 100;
constexpr const char* k_tasks_path = "/contents/generations/tasks";

// What a documented model allows (native-providers.md 5.2).
struct ModelRule {
  std::string_view prefix;
  int min_seconds;
  int max_seconds;
  bool text;  // runs on a prompt alone
  bool first_frame;
  bool last_frame;
};

constexpr std::array k_model_rules = {
    ModelRule{"doubao-seedance-1-5-pro", 4, 12, true, true, true},
    ModelRule{"doubao-seedance-1-0-pro-fast", 2, 12, true, true, false},
    ModelRule{"doubao-seedance-1-0-pro", 2, 12, true, true, true},
    ModelRule{"doubao-seedance-1-0-lite-t2v", 2, 12, true, false, false},
    ModelRule{"doubao-seedance-1-0-lite-i2v", 2, 12, false, true, true},
    ModelRule{"doubao-seedance-2-0", 4, 15, true, true, true},
};

const ModelRule* rule_of(const std::string& model) {
  for (const auto& rule : k_model_rules) {
    if (model.starts_with(rule.prefix)) {
      return &rule;
    }
  }
  return nullptr;
}

std::string ratio_of(const JobSpec& spec) {
  return spec.orientation == Orientation::portrait ? "9:16" : "16:9";
}

std::string resolution_of(const JobSpec& spec) {
  return spec.size == "large" ? "1080p" : "720p";
}

// An Ark task object (a query answer, a listing item: its error is `failure_reason` there).
RemoteStatus task_status(const rapidjson::Value& task) {
  RemoteStatus s;
  s.raw_status = json_string(task, "status");
  s.phase = s.raw_status == "expired" ? RemotePhase::failed : map_status(s.raw_status);
  if (s.phase == RemotePhase::failed) {
    const rapidjson::Value* error = json_member(task, "error");
    if (error == nullptr) {
      error = json_member(task, "failure_reason");
    }
    const std::string code = error == nullptr ? "" : json_string(*error, "code");
    s.error_code = code.find("Sensitive") != std::string::npos ||
                           code.find("Risk") != std::string::npos
                       ? "moderation"
                   : s.raw_status == "expired"   ? "seedance_expired"
                   : s.raw_status == "cancelled" ? "canceled"
                                                 : "seedance_failed";
    s.error_message = s.raw_status == "expired"
                          ? "the task did not finish within its execution_expires_after"
                      : error == nullptr ? ""
                                         : code + ": " + json_string(*error, "message");
  }
  if (const rapidjson::Value* content = json_member(task, "content")) {
    s.video_url = json_string(*content, "video_url");
    s.thumbnail_url = json_string(*content, "last_frame_url");
  }
  if (s.phase == RemotePhase::completed) {
    s.progress = 100.0;
  }
  return s;
}

// What Ark's code means (native-providers.md 5.4); nullopt: not one of its codes.
std::optional<AnswerClass> classify_code(RequestPhase phase, const std::string& code, int status,
                                         const std::string& what) {
  const std::string name = "seedance_" + code;
  if (code.starts_with("RateLimitExceeded") || code.find("RateLimit") != std::string::npos ||
      code == "ServerOverloaded") {
    return answer_of(AnswerKind::slow_down, name, what);
  }
  if (code == "AuthenticationError" || code == "AccessDenied") {
    return answer_of(AnswerKind::stop_run, failure::auth(status),
                     "Ark refused the key (" + what + "); check the key variable and base URL");
  }
  if (code == "AccountOverdueError") {
    return answer_of(AnswerKind::stop_run, failure::insufficient_quota,
                     "Ark says the account is overdue (" + what + "); recharge it");
  }
  if (code.find("Sensitive") != std::string::npos || code.find("Risk") != std::string::npos) {
    return answer_of(AnswerKind::rejected, "moderation", what);
  }
  if (code.starts_with("InvalidParameter") || code == "MissingParameter" ||
      code.starts_with("InvalidEndpoint") || code == "ResourceNotFound") {
    return answer_of(phase == RequestPhase::download ? AnswerKind::expired : AnswerKind::rejected,
                     name, what);
  }
  if (code == "InternalServiceError") {
    // Ark's own refusal in its own envelope: no task was created.
    return answer_of(AnswerKind::retry, name, what);
  }
  return std::nullopt;
}

}  // namespace

SeedanceProvider::SeedanceProvider(ProviderConfig config) : m_config(std::move(config)) {}

Status SeedanceProvider::check(const JobSpec& spec) const {
  if (!spec.model.starts_with("doubao-seedance") && !spec.model.starts_with("ep-") &&
      !spec.model.starts_with("seedance")) {
    return fail(ErrorCode::invalid_input,
                "model: Seedance takes Ark's model ids (doubao-seedance-1-5-pro-251215, "
                "doubao-seedance-1-0-pro-250528...) or an endpoint id (ep-...), got '" +
                    spec.model + "'");
  }
  if (spec.derived != DerivedKind::none || !spec.characters.empty() ||
      !spec.character_url.empty()) {
    return fail(ErrorCode::invalid_input,
                "Seedance has no remix, edit, extension or character route for this job");
  }
  if (auto frames = check_frame_urls(spec, "Seedance"); !frames) {
    return frames;
  }
  if (spec.size != "small" && spec.size != "large") {
    return fail(ErrorCode::invalid_input,
                "size: Seedance takes small (720p) or large (1080p), not '" + spec.size + "'");
  }
  const ModelRule* rule = rule_of(spec.model);
  if (rule == nullptr) {
    return {};  // an endpoint id or a newer model: Ark checks
  }
  if (spec.seconds < rule->min_seconds || spec.seconds > rule->max_seconds) {
    return fail(ErrorCode::invalid_input,
                "seconds: " + spec.model + " takes " + std::to_string(rule->min_seconds) + " to " +
                    std::to_string(rule->max_seconds) + ", got " + std::to_string(spec.seconds));
  }
  if (spec.images.empty() && !rule->text) {
    return fail(ErrorCode::invalid_input, "images: " + spec.model + " needs a first-frame image");
  }
  if (!spec.images.empty() && !rule->first_frame) {
    return fail(ErrorCode::invalid_input, "images: " + spec.model + " makes video from text only");
  }
  if (spec.images.size() > 1 && !rule->last_frame) {
    return fail(ErrorCode::invalid_input, "images: " + spec.model + " takes no last frame");
  }
  return {};
}

AnswerClass SeedanceProvider::classify(RequestPhase phase, const HttpResult& result,
                                       Millis now) const {
  if (result.failure != TransportFailure::none) {
    return classify_transport_failure(phase, result);
  }
  if (phase != RequestPhase::download && result.response.status >= 300) {
    auto doc = parse_object(result.response.body);
    const rapidjson::Value* error = doc ? json_member(*doc, "error") : nullptr;
    const std::string code = error == nullptr ? "" : json_string(*error, "code");
    const std::string what = "HTTP " + std::to_string(result.response.status) + ", Ark " + code +
                             ": " + (error ? json_string(*error, "message").substr(0, 300) : "");
    if (auto known = classify_code(phase, code, result.response.status, what)) {
      return *known;
    }
  }
  // A CDN's answer, a gateway's own (the same OpenAI-like envelope, other codes), or a success.
  return classify_openai_answer(phase, result, now);
}

Result<HttpRequest> SeedanceProvider::create_request(const JobSpec& spec,
                                                     const CreateContext&) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  json_put(w, "model", spec.model);
  w.Key("content");
  w.StartArray();
  w.StartObject();
  json_put(w, "type", "text");
  json_put(w, "text", spec.prompt);
  w.EndObject();
  for (std::size_t i = 0; i < spec.images.size(); ++i) {
    w.StartObject();
    json_put(w, "type", "image_url");
    w.Key("image_url");
    w.StartObject();
    json_put(w, "url", spec.images[i]);
    w.EndObject();
    json_put(w, "role", i == 0 ? "first_frame" : "last_frame");
    w.EndObject();
  }
  w.EndArray();
  json_put(w, "ratio", ratio_of(spec));
  w.Key("duration");
  w.Int(spec.seconds);
  json_put(w, "resolution", resolution_of(spec));
  w.Key("watermark");
  w.Bool(spec.watermark.value_or(false));
  write_params(w, Dialect::seedance, spec);
  w.EndObject();
  return json_post(m_config.base_url + k_tasks_path, {buf.GetString(), buf.GetSize()});
}

Result<CreateAnswer> SeedanceProvider::parse_create(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  CreateAnswer answer;
  // Ark: {id: "cgt-..."}; a gateway's OpenAI video object has its id there too.
  answer.remote_id = json_string(doc, "id");
  if (answer.remote_id.empty()) {
    answer.remote_id = json_string(doc, "task_id");
  }
  if (answer.remote_id.empty()) {
    return fail(ErrorCode::protocol,
                "the create answer names no task id: " + error_message_from_body(response.body));
  }
  answer.status.raw_status = json_string(doc, "status");
  answer.status.phase = RemotePhase::queued;
  return answer;
}

HttpRequest SeedanceProvider::query_request(const JobSpec&, const std::string& remote_id) const {
  HttpRequest req;
  req.url = m_config.base_url + k_tasks_path + "/" + encode_path_segment(remote_id);
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> SeedanceProvider::parse_query(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  RemoteStatus status;
  const rapidjson::Value* data = json_member(doc, "data");
  if (data != nullptr && is_task_record(*data, "content")) {
    status = task_record_status(*data, "seedance_failed");
    if (const rapidjson::Value* inner = json_member(*data, "data")) {
      const RemoteStatus native = task_status(*inner);
      status.thumbnail_url = native.thumbnail_url;
      if (status.video_url.empty()) {
        status.video_url = native.video_url;
      }
      // new-api keeps an expired or cancelled task "in progress" for ever: Ark's word decides.
      if (native.phase == RemotePhase::failed && status.phase != RemotePhase::failed) {
        status = native;
      }
    }
  } else {
    status = task_status(doc);
  }
  if (status.raw_status.empty()) {
    return fail(ErrorCode::protocol,
                "the query answer has no task status: " + error_message_from_body(response.body));
  }
  if (status.phase == RemotePhase::completed && status.video_url.empty()) {
    return fail(ErrorCode::protocol, "the task succeeded but its answer names no video_url");
  }
  return status;
}

HttpRequest SeedanceProvider::download_request(const std::string&,
                                               const RemoteStatus& status) const {
  return url_get(status.video_url);  // the key stays home: the object store is another origin
}

std::optional<HttpRequest> SeedanceProvider::thumbnail_request(const std::string&,
                                                               const RemoteStatus& status) const {
  return thumbnail_get(status);
}

Result<std::string> SeedanceProvider::parse_content_redirect(std::string_view body) const {
  return fail(ErrorCode::protocol, "Seedance's video URL answered JSON instead of the video: " +
                                       error_message_from_body(body));
}

HttpRequest SeedanceProvider::list_request(const std::string& after_id) const {
  HttpRequest req;
  req.url = m_config.base_url + k_tasks_path + "?page_num=" + (after_id.empty() ? "1" : after_id) +
            "&page_size=" + std::to_string(k_page_size);
  req.with_auth = true;
  return req;
}

Result<RemotePage> SeedanceProvider::parse_list(const std::string& after_id,
                                                const HttpResponse& response) const {
  const int page_number = page_of(after_id);
  auto doc = VB_TRY(parse_object(response.body));
  const rapidjson::Value* items = VB_TRY(listing_items(doc, "items", response.body));
  RemotePage page;
  for (const auto& task : items->GetArray()) {
    RemoteVideo video;
    video.id = json_string(task, "id");
    if (video.id.empty()) {
      continue;
    }
    video.model = json_string(task, "model");
    video.size = json_string(task, "resolution") + " " + json_string(task, "ratio");
    const rapidjson::Value* seconds = json_member(task, "duration");
    video.seconds = seconds != nullptr && seconds->IsInt() ? std::to_string(seconds->GetInt()) : "";
    const rapidjson::Value* created = json_member(task, "created_at");
    if (created != nullptr && created->IsInt64() && created->GetInt64() > 0 &&
        created->GetInt64() < 100'000'000'000LL) {
      video.created_at = created->GetInt64() * 1000;
    }
    video.status = task_status(task);
    page.videos.push_back(std::move(video));
  }
  const rapidjson::Value* total = json_member(doc, "total");
  page.has_more = total != nullptr && total->IsInt64()
                      ? static_cast<std::int64_t>(page_number) * k_page_size < total->GetInt64()
                      : items->Size() >= static_cast<rapidjson::SizeType>(k_page_size);
  page.last_id = std::to_string(page_number + 1);
  return page;
}

// Ark takes no client tag and lists no prompt: the model and the settings sent, within the
// reconciler's time window.
bool SeedanceProvider::matches(const JobSpec& spec, const std::string&,
                               const RemoteVideo& video) const {
  return video.model == spec.model && video.seconds == std::to_string(spec.seconds) &&
         video.size == resolution_of(spec) + " " + ratio_of(spec);
}

Result<std::string> SeedanceProvider::parse_character(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "Seedance has no character route");
}

}  // namespace vb
