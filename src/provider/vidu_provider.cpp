#include "provider/vidu_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "job/failure_codes.h"
#include "provider/answer_parser.h"
#include "provider/native_answers.h"
#include "provider/openai_answers.h"
#include "provider/vendor_params.h"

namespace vb {

namespace {

constexpr int k_page_size = 100;
constexpr std::size_t k_max_references = 7;  // reference2video's images: 1 to 7

// The first creation of a task: its URL and cover.
void read_creations(const rapidjson::Value& task, RemoteStatus& s) {
  const rapidjson::Value* creations = json_member(task, "creations");
  if (creations != nullptr && creations->IsArray() && !creations->Empty()) {
    s.video_url = json_string((*creations)[0], "url");
    s.thumbnail_url = json_string((*creations)[0], "cover_url");
  }
}

// A Vidu task (a query answer, a listing item).
RemoteStatus task_status(const rapidjson::Value& task) {
  RemoteStatus s;
  s.raw_status = json_string(task, "state");
  s.phase = map_status(s.raw_status);
  if (s.phase == RemotePhase::failed) {
    const std::string code = json_string(task, "err_code");
    s.error_code = code.find("Policy") != std::string::npos ? "moderation" : "vidu_failed";
    s.error_message = code.empty() ? "Vidu says the task failed" : "Vidu err_code " + code;
  }
  if (s.phase == RemotePhase::completed) {
    s.progress = 100.0;
    read_creations(task, s);
  }
  return s;
}

// What Vidu's reason means (native-providers.md 4.4); nullopt: not one of its answers.
std::optional<AnswerClass> classify_reason(RequestPhase phase, const std::string& reason,
                                           int status, const std::string& what) {
  const std::string name = "vidu_" + reason;
  if (reason == "TooManyRequests" || reason == "QuotaExceeded") {
    return answer_of(AnswerKind::slow_down, name, what);
  }
  if (reason == "CreditInsufficient") {
    return answer_of(AnswerKind::stop_run, failure::insufficient_quota,
                     "Vidu says the account has no credits left (" + what + ")");
  }
  if (reason == "Unauthorized" || reason == "Forbidden") {
    return answer_of(AnswerKind::stop_run, failure::auth(status),
                     "Vidu refused the key (" + what +
                         "); check the key variable, auth (token direct, bearer through a "
                         "gateway) and the base URL");
  }
  if (reason.find("PolicyViolation") != std::string::npos) {
    return answer_of(AnswerKind::rejected, "moderation", what);
  }
  if (reason == "TaskNotFound") {
    return answer_of(AnswerKind::rejected, name, what);
  }
  if (reason.starts_with("Field") || reason.starts_with("Image") || reason == "BadRequest") {
    return answer_of(phase == RequestPhase::download ? AnswerKind::expired : AnswerKind::rejected,
                     name, what);
  }
  if (reason == "InternalServiceFailure") {
    // Vidu's own refusal in its own envelope: no task was created.
    return answer_of(AnswerKind::retry, name, what);
  }
  return std::nullopt;
}

// reference2video: 1 to 7 image URLs, no frames, on the models that have the route.
Status check_references(const JobSpec& spec) {
  const auto& references = spec.reference_images;
  if (references.empty()) {
    return {};
  }
  if (!spec.images.empty()) {
    return fail(ErrorCode::invalid_input,
                "images: a job with reference_images has no frames (Vidu's reference2video "
                "takes the references only); remove 'images' or 'reference_images'");
  }
  if (references.size() > k_max_references) {
    return fail(ErrorCode::invalid_input,
                "reference_images: Vidu takes 1 to 7, got " + std::to_string(references.size()));
  }
  for (const auto& image : references) {
    if (!image.starts_with("https://") && !image.starts_with("http://")) {
      return fail(ErrorCode::invalid_input,
                  "reference_images: '" + image +
                      "' is a local file; Vidu takes image URLs (give its https:// URL)");
    }
  }
  if (spec.model != "viduq2" && spec.model != "viduq1" && spec.model != "vidu2.0") {
    return fail(ErrorCode::invalid_input,
                "model: Vidu's reference2video runs on viduq2, viduq1 or vidu2.0 (no -pro or "
                "-turbo), got '" +
                    spec.model + "'");
  }
  return {};
}

}  // namespace

ViduProvider::ViduProvider(ProviderConfig config) : m_config(std::move(config)) {}

std::string_view ViduProvider::route(const JobSpec& spec) {
  if (!spec.reference_images.empty()) {
    return "reference2video";
  }
  switch (spec.images.size()) {
    case 0:
      return "text2video";
    case 1:
      return "img2video";
    default:
      return "start-end2video";
  }
}

Status ViduProvider::check(const JobSpec& spec) const {
  if (!spec.model.starts_with("vidu")) {
    return fail(ErrorCode::invalid_input,
                "model: Vidu takes its own model names (viduq3-pro, viduq2-pro, viduq1, "
                "vidu2.0...), got '" +
                    spec.model + "'");
  }
  if (spec.derived != DerivedKind::none || !spec.characters.empty() ||
      !spec.character_url.empty()) {
    return fail(ErrorCode::invalid_input,
                "Vidu has no remix, edit, extension or character route for this job");
  }
  if (auto frames = check_frame_urls(spec, "Vidu"); !frames) {
    return frames;
  }
  if (auto references = check_references(spec); !references) {
    return references;
  }
  const bool classic = spec.model == "vidu2.0" || spec.model == "vidu1.5";
  const bool q1 = spec.model.starts_with("viduq1");
  const int max = spec.model.starts_with("viduq3") ? 16 : 10;
  const bool seconds_ok = classic ? (spec.seconds == 4 || spec.seconds == 8)
                          : q1    ? spec.seconds == 5
                                  : spec.seconds >= 1 && spec.seconds <= max;
  if (!seconds_ok) {
    return fail(ErrorCode::invalid_input, "seconds: " + spec.model + " takes " +
                                              (classic ? std::string("4 or 8")
                                               : q1    ? std::string("5")
                                                       : "1 to " + std::to_string(max)) +
                                              ", got " + std::to_string(spec.seconds));
  }
  if (spec.size != "small" && spec.size != "large") {
    return fail(ErrorCode::invalid_input,
                "size: Vidu takes small (720p) or large (1080p), not '" + spec.size + "'");
  }
  if (q1 && spec.size != "large") {
    return fail(ErrorCode::invalid_input, "size: " + spec.model + " makes 1080p only (size large)");
  }
  if (classic && spec.seconds == 8 && spec.size != "small") {
    return fail(ErrorCode::invalid_input,
                "size: " + spec.model + " makes 8 s videos at 720p only (size small)");
  }
  return {};
}

AnswerClass ViduProvider::classify(RequestPhase phase, const HttpResult& result, Millis now) const {
  if (result.failure != TransportFailure::none) {
    return classify_transport_failure(phase, result);
  }
  if (phase != RequestPhase::download && result.response.status >= 300) {
    auto doc = parse_object(result.response.body);
    const std::string reason = doc ? json_string(*doc, "reason") : "";
    const std::string what = "HTTP " + std::to_string(result.response.status) + ", Vidu " + reason +
                             ": " + (doc ? json_string(*doc, "message").substr(0, 300) : "");
    if (auto known = classify_reason(phase, reason, result.response.status, what)) {
      return *known;
    }
  }
  // A CDN's answer, a gateway's own, or a success.
  return classify_openai_answer(phase, result, now);
}

Result<HttpRequest> ViduProvider::create_request(const JobSpec& spec,
                                                 const CreateContext& context) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  json_put(w, "model", spec.model);
  json_put(w, "prompt", spec.prompt);
  // The route tells Vidu what the images are: frames, or the subjects' references.
  const auto& images = spec.reference_images.empty() ? spec.images : spec.reference_images;
  if (!images.empty()) {
    w.Key("images");
    w.StartArray();
    for (const auto& image : images) {
      w.String(image.c_str(), static_cast<rapidjson::SizeType>(image.size()));
    }
    w.EndArray();
  }
  if (spec.images.empty()) {
    // With frames, the first frame decides the frame.
    json_put(w, "aspect_ratio", spec.orientation == Orientation::portrait ? "9:16" : "16:9");
  }
  w.Key("duration");
  w.Int(spec.seconds);
  json_put(w, "resolution", spec.size == "large" ? "1080p" : "720p");
  if (spec.watermark) {
    w.Key("watermark");
    w.Bool(*spec.watermark);
  }
  if (!context.job_key.empty()) {
    json_put(w, "payload", context.job_key);
  }
  write_params(w, Dialect::vidu, spec);
  w.EndObject();
  return json_post(m_config.base_url + "/ent/v2/" + std::string(route(spec)),
                   {buf.GetString(), buf.GetSize()});
}

Result<CreateAnswer> ViduProvider::parse_create(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  CreateAnswer answer;
  if (json_string(doc, "object") != "video") {
    answer.remote_id = json_string(doc, "task_id");
    answer.status = task_status(doc);
  } else {
    // A gateway's OpenAI video object {id, task_id, object: "video", status: "queued"}: its id.
    answer.remote_id = json_string(doc, "id");
    answer.status.raw_status = json_string(doc, "status");
    answer.status.phase = map_status(answer.status.raw_status);
  }
  if (answer.remote_id.empty()) {
    return fail(ErrorCode::protocol,
                "the create answer names no task id: " + error_message_from_body(response.body));
  }
  if (answer.status.phase != RemotePhase::running) {  // a failed create shows in the query
    answer.status.phase = RemotePhase::queued;
  }
  return answer;
}

HttpRequest ViduProvider::query_request(const JobSpec&, const std::string& remote_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/ent/v2/tasks/" + encode_path_segment(remote_id) + "/creations";
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> ViduProvider::parse_query(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  RemoteStatus status;
  const rapidjson::Value* data = json_member(doc, "data");
  if (json_member(doc, "state") != nullptr) {
    status = task_status(doc);
  } else if (data != nullptr && is_task_record(*data, "state")) {
    status = task_record_status(*data, "vidu_failed");
    if (const rapidjson::Value* inner = json_member(*data, "data")) {
      const RemoteStatus native = task_status(*inner);
      status.thumbnail_url = native.thumbnail_url;
      if (status.video_url.empty()) {
        status.video_url = native.video_url;
      }
    }
  }
  if (status.raw_status.empty()) {
    return fail(ErrorCode::protocol,
                "the query answer has no task state: " + error_message_from_body(response.body));
  }
  if (status.phase == RemotePhase::completed && status.video_url.empty()) {
    return fail(ErrorCode::protocol, "the task succeeded but its answer names no creation URL");
  }
  return status;
}

HttpRequest ViduProvider::download_request(const std::string&, const RemoteStatus& status) const {
  return url_get(status.video_url);  // the key stays home: the CDN is another origin
}

std::optional<HttpRequest> ViduProvider::thumbnail_request(const std::string&,
                                                           const RemoteStatus& status) const {
  return thumbnail_get(status);
}

Result<std::string> ViduProvider::parse_content_redirect(std::string_view body) const {
  return fail(ErrorCode::protocol, "Vidu's video URL answered JSON instead of the video: " +
                                       error_message_from_body(body));
}

HttpRequest ViduProvider::list_request(const std::string& after_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/ent/v2/tasks?paper.page=" + (after_id.empty() ? "0" : after_id) +
            "&paper.pagesz=" + std::to_string(k_page_size);
  req.with_auth = true;
  return req;
}

Result<RemotePage> ViduProvider::parse_list(const std::string&,
                                            const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  const rapidjson::Value* tasks = VB_TRY(listing_items(doc, "tasks", response.body));
  RemotePage page;
  for (const auto& task : tasks->GetArray()) {
    RemoteVideo video;
    video.id = json_string(task, "id");
    if (video.id.empty()) {
      continue;
    }
    video.prompt = json_string(task, "prompt");
    video.model = json_string(task, "model");
    video.job_key = json_string(task, "payload");
    if (const rapidjson::Value* seconds = json_member(task, "duration");
        seconds != nullptr && seconds->IsInt()) {
      video.seconds = std::to_string(seconds->GetInt());
    }
    video.size = json_string(task, "resolution");
    video.created_at = utc_text_millis(json_string(task, "created_at")).value_or(0);
    video.status = task_status(task);
    page.videos.push_back(std::move(video));
  }
  page.last_id = json_string(doc, "next_page_token");
  page.has_more = !page.last_id.empty();
  return page;
}

// By the payload tag where the listing shows it; else by what the job asked for.
bool ViduProvider::matches(const JobSpec& spec, const std::string& job_key,
                           const RemoteVideo& video) const {
  if (!video.job_key.empty()) {
    return video.job_key == job_key;
  }
  return video.prompt == spec.prompt && video.model == spec.model &&
         video.seconds == std::to_string(spec.seconds) &&
         video.size == (spec.size == "large" ? "1080p" : "720p");
}

Result<std::string> ViduProvider::parse_character(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "Vidu has no character route");
}

}  // namespace vb
