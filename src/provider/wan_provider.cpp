#include "provider/wan_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "job/failure_codes.h"
#include "provider/answer_parser.h"
#include "provider/native_answers.h"
#include "provider/openai_answers.h"
#include "provider/vendor_params.h"

namespace vb {

namespace {

constexpr int k_page_size = 100;
constexpr const char* k_synthesis_path = "/api/v1/services/aigc/video-generation/video-synthesis";
constexpr const char* k_keyframe_path = "/api/v1/services/aigc/image2video/video-synthesis";

enum class WanKind { text, image, keyframes };

std::optional<WanKind> kind_of(const std::string& model) {
  if (model.find("kf2v") != std::string::npos) {
    return WanKind::keyframes;
  }
  if (model.find("i2v") != std::string::npos) {
    return WanKind::image;
  }
  if (model.find("t2v") != std::string::npos) {
    return WanKind::text;
  }
  return std::nullopt;
}

// What a documented model allows (native-providers.md 2.2): seconds and resolution tiers.
struct ModelRule {
  std::string_view prefix;
  int min_seconds;
  int max_seconds;
  bool five_or_ten;
  std::array<int, 3> tiers;  // 480, 720, 1080; 0 = none
};

constexpr std::array k_model_rules = {
    ModelRule{"wan2.6-", 2, 15, false, {720, 1080, 0}},
    ModelRule{"wan2.5-", 5, 10, true, {480, 720, 1080}},
    ModelRule{"wan2.2-t2v-plus", 5, 5, false, {480, 1080, 0}},
    ModelRule{"wan2.2-i2v-plus", 5, 5, false, {480, 1080, 0}},
    ModelRule{"wan2.2-i2v-flash", 5, 5, false, {480, 720, 0}},
    ModelRule{"wan2.2-kf2v-flash", 5, 5, false, {480, 720, 1080}},
    ModelRule{"wanx2.1-t2v-turbo", 5, 5, false, {480, 720, 0}},
    ModelRule{"wanx2.1-i2v-turbo", 5, 5, false, {480, 720, 0}},
    ModelRule{"wanx2.1-", 5, 5, false, {720, 0, 0}},
};

const ModelRule* rule_of(const std::string& model) {
  for (const auto& rule : k_model_rules) {
    if (model.starts_with(rule.prefix)) {
      return &rule;
    }
  }
  return nullptr;
}

// The short side the job asks for: small 720, large 1080, or an exact size's.
int tier_of(const JobSpec& spec) {
  if (spec.size == "small") {
    return 720;
  }
  if (spec.size == "large") {
    return 1080;
  }
  int width = 0;
  int height = 0;
  const auto x = spec.size.find('x');
  std::from_chars(spec.size.data(), spec.size.data() + x, width);
  std::from_chars(spec.size.data() + x + 1, spec.size.data() + spec.size.size(), height);
  return std::min(width, height);
}

// parameters.size of a text-to-video job: "W*H".
std::string text_size(const JobSpec& spec) {
  if (spec.size != "small" && spec.size != "large") {
    std::string size = spec.size;
    size[size.find('x')] = '*';
    return size;
  }
  const bool portrait = spec.orientation == Orientation::portrait;
  return spec.size == "large" ? (portrait ? "1080*1920" : "1920*1080")
                              : (portrait ? "720*1280" : "1280*720");
}

// DashScope's output object: a query's, or the vendor answer inside a gateway's record.
RemoteStatus output_status(const rapidjson::Value& output) {
  RemoteStatus s;
  s.raw_status = json_string(output, "task_status");
  // UNKNOWN: an id DashScope does not know (expired, another region or key), not a failure.
  // SUSPENDED is in the SDK's enum only, meaning undocumented.
  s.phase = s.raw_status == "UNKNOWN"     ? RemotePhase::lost
            : s.raw_status == "SUSPENDED" ? RemotePhase::unknown
                                          : map_status(s.raw_status);
  if (s.phase == RemotePhase::failed) {
    const std::string code = json_string(output, "code");
    s.error_code = code == "DataInspectionFailed" ? "moderation"
                   : s.raw_status == "CANCELED"   ? "canceled"
                                                  : "wan_failed";
    s.error_message = code.empty() ? json_string(output, "message")
                                   : code + ": " + json_string(output, "message");
  }
  if (s.phase == RemotePhase::completed) {
    s.progress = 100.0;
    s.video_url = json_string(output, "video_url");
    s.expires_at = url_expiry(s.video_url);
  }
  return s;
}

// What DashScope's string code means (native-providers.md 2.4); nullopt: not one of its codes
// (a gateway's own answer).
std::optional<AnswerClass> classify_code(const std::string& code, int status,
                                         const std::string& what) {
  const std::string name = "wan_" + code;
  if (code.starts_with("Throttling")) {
    return answer_of(AnswerKind::slow_down, name, what);
  }
  if (code == "Arrearage") {
    return answer_of(AnswerKind::stop_run, failure::insufficient_quota,
                     "DashScope refused the account (" + what + "); settle it in the console");
  }
  if (code == "InvalidApiKey" || code == "AccessDenied") {
    return answer_of(AnswerKind::stop_run, failure::auth(status),
                     "DashScope refused the request (" + what +
                         "); check the key variable, its region and the base URL");
  }
  if (code == "DataInspectionFailed") {
    return answer_of(AnswerKind::rejected, "moderation", what);
  }
  if (code.starts_with("InvalidParameter") || code.starts_with("BadRequest") ||
      code == "InvalidURL") {
    return answer_of(AnswerKind::rejected, name, what);
  }
  if (code.starts_with("InternalError")) {
    // DashScope's own refusal in its own envelope: no task was created.
    return answer_of(AnswerKind::retry, name, what);
  }
  return std::nullopt;
}

}  // namespace

WanProvider::WanProvider(ProviderConfig config) : m_config(std::move(config)) {}

Status WanProvider::check(const JobSpec& spec) const {
  const auto kind = kind_of(spec.model);
  if (!kind) {
    return fail(ErrorCode::invalid_input,
                "model: Wan's model names say what they make (wan2.6-t2v, wan2.6-i2v, "
                "wan2.2-kf2v-flash...), got '" +
                    spec.model + "'");
  }
  if (spec.derived != DerivedKind::none || !spec.characters.empty() ||
      !spec.character_url.empty()) {
    return fail(ErrorCode::invalid_input,
                "Wan has no remix, edit, extension or character route for this job");
  }
  if (auto frames = check_frame_urls(spec, "Wan"); !frames) {
    return frames;
  }
  const std::size_t images = spec.images.size();
  if (*kind == WanKind::text && images > 0) {
    return fail(ErrorCode::invalid_input, "images: " + spec.model +
                                              " makes video from text only; use an i2v model "
                                              "(first frame) or a kf2v model (first and last)");
  }
  if (*kind == WanKind::image && images != 1) {
    return fail(ErrorCode::invalid_input,
                "images: " + spec.model + " takes exactly one image (the first frame)" +
                    (images > 1 ? "; a kf2v model takes a first and a last frame" : ""));
  }
  if (*kind == WanKind::keyframes && images == 0) {
    return fail(ErrorCode::invalid_input,
                "images: " + spec.model + " needs a first frame (and optionally a last frame)");
  }
  const bool exact = spec.size != "small" && spec.size != "large";
  if (exact && *kind != WanKind::text) {
    return fail(ErrorCode::invalid_input,
                "size: Wan image-to-video takes small (720P) or large (1080P); the image sets "
                "the frame, not '" +
                    spec.size + "'");
  }
  if (const ModelRule* rule = rule_of(spec.model)) {
    const bool in_range = spec.seconds >= rule->min_seconds && spec.seconds <= rule->max_seconds;
    const bool seconds_ok = rule->five_or_ten ? (spec.seconds == 5 || spec.seconds == 10)
                                              : in_range;
    if (!seconds_ok) {
      const std::string allowed =
          rule->five_or_ten ? "5 or 10"
          : rule->min_seconds == rule->max_seconds
              ? std::to_string(rule->min_seconds)
              : std::to_string(rule->min_seconds) + " to " + std::to_string(rule->max_seconds);
      return fail(ErrorCode::invalid_input, "seconds: " + spec.model + " takes " + allowed +
                                                ", got " + std::to_string(spec.seconds));
    }
    const int tier = tier_of(spec);
    if (std::find(rule->tiers.begin(), rule->tiers.end(), tier) == rule->tiers.end()) {
      std::string tiers;
      for (int t : rule->tiers) {
        if (t != 0) {
          tiers += (tiers.empty() ? "" : ", ") + std::to_string(t) + "P";
        }
      }
      return fail(ErrorCode::invalid_input,
                  "size: " + spec.model + " makes " + tiers + " (small = 720P, large = 1080P" +
                      (*kind == WanKind::text ? ", or an exact size such as 832x480" : "") +
                      "), not '" + spec.size + "'");
    }
  }
  return {};
}

AnswerClass WanProvider::classify(RequestPhase phase, const HttpResult& result, Millis now) const {
  if (result.failure != TransportFailure::none) {
    return classify_transport_failure(phase, result);
  }
  if (phase != RequestPhase::download && result.response.status >= 300) {
    auto doc = parse_object(result.response.body);
    const std::string code = doc ? json_string(*doc, "code") : "";
    const std::string what = "HTTP " + std::to_string(result.response.status) +
                             ", DashScope code " + code + ": " +
                             (doc ? json_string(*doc, "message").substr(0, 300) : "");
    if (auto known = classify_code(code, result.response.status, what)) {
      return *known;
    }
  }
  // A CDN's answer, a gateway's own, or a success.
  return classify_openai_answer(phase, result, now);
}

Result<HttpRequest> WanProvider::create_request(const JobSpec& spec, const CreateContext&) const {
  const WanKind kind = kind_of(spec.model).value_or(WanKind::text);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  json_put(w, "model", spec.model);
  w.Key("input");
  w.StartObject();
  json_put(w, "prompt", spec.prompt);
  if (kind == WanKind::image) {
    json_put(w, "img_url", spec.images[0]);
  } else if (kind == WanKind::keyframes) {
    json_put(w, "first_frame_url", spec.images[0]);
    if (spec.images.size() > 1) {
      json_put(w, "last_frame_url", spec.images[1]);
    }
  }
  write_params(w, Dialect::wan, spec, "input");
  w.EndObject();
  w.Key("parameters");
  w.StartObject();
  w.Key("duration");
  w.Int(spec.seconds);
  if (kind == WanKind::text) {
    json_put(w, "size", text_size(spec));
  } else {
    json_put(w, "resolution", spec.size == "large" ? "1080P" : "720P");
  }
  if (spec.watermark) {
    w.Key("watermark");
    w.Bool(*spec.watermark);
  }
  write_params(w, Dialect::wan, spec, "parameters");
  w.EndObject();
  w.EndObject();
  HttpRequest req = json_post(m_config.base_url +
                                  (kind == WanKind::keyframes ? k_keyframe_path : k_synthesis_path),
                              {buf.GetString(), buf.GetSize()});
  req.headers.push_back({"X-DashScope-Async", "enable"});
  return req;
}

Result<CreateAnswer> WanProvider::parse_create(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  CreateAnswer answer;
  if (const rapidjson::Value* output = json_member(doc, "output"); output != nullptr) {
    answer.remote_id = json_string(*output, "task_id");
    answer.status.raw_status = json_string(*output, "task_status");
  } else {
    // A gateway's OpenAI video object: {id, object: "video", status: "queued"}.
    answer.remote_id = json_string(doc, "id");
    answer.status.raw_status = json_string(doc, "status");
  }
  if (answer.remote_id.empty()) {
    return fail(ErrorCode::protocol,
                "the create answer names no task id: " + error_message_from_body(response.body));
  }
  answer.status.phase = map_status(answer.status.raw_status);
  if (answer.status.phase != RemotePhase::running) {
    answer.status.phase = RemotePhase::queued;
  }
  return answer;
}

HttpRequest WanProvider::query_request(const JobSpec&, const std::string& remote_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/api/v1/tasks/" + encode_path_segment(remote_id);
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> WanProvider::parse_query(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  RemoteStatus status;
  const rapidjson::Value* data = json_member(doc, "data");
  if (const rapidjson::Value* output = json_member(doc, "output"); output != nullptr) {
    status = output_status(*output);
  } else if (data != nullptr && is_task_record(*data, "task_status")) {
    status = task_record_status(*data, "wan_failed");
    const rapidjson::Value* inner = json_member(*data, "data");
    const rapidjson::Value* output = inner == nullptr ? nullptr : json_member(*inner, "output");
    if (output != nullptr && status.video_url.empty()) {
      status.video_url = output_status(*output).video_url;
      status.expires_at = url_expiry(status.video_url);
    }
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

HttpRequest WanProvider::download_request(const std::string&, const RemoteStatus& status) const {
  return url_get(status.video_url);  // the key stays home: the OSS bucket is another origin
}

Result<std::string> WanProvider::parse_content_redirect(std::string_view body) const {
  return fail(ErrorCode::protocol, "Wan's video URL answered JSON instead of the video: " +
                                       error_message_from_body(body));
}

std::string WanProvider::delivered_size(const JobSpec& spec) const {
  return spec.size;
}

HttpRequest WanProvider::list_request(const std::string& after_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/api/v1/tasks?page_no=" + (after_id.empty() ? "1" : after_id) +
            "&page_size=" + std::to_string(k_page_size);
  req.with_auth = true;
  return req;
}

Result<RemotePage> WanProvider::parse_list(const std::string& after_id,
                                           const HttpResponse& response) const {
  const int page_number = page_of(after_id);
  auto doc = VB_TRY(parse_object(response.body));
  const rapidjson::Value* data = VB_TRY(listing_items(doc, "data", response.body));
  RemotePage page;
  for (const auto& task : data->GetArray()) {
    RemoteVideo video;
    video.id = json_string(task, "task_id");
    if (video.id.empty()) {
      continue;
    }
    video.model = json_string(task, "model_name");
    video.created_at = utc_text_millis(json_string(task, "gmt_create")).value_or(0);
    video.status.raw_status = json_string(task, "status");
    video.status.phase = map_status(video.status.raw_status);
    page.videos.push_back(std::move(video));
  }
  const rapidjson::Value* pages = json_member(doc, "total_page");
  page.has_more = pages != nullptr && pages->IsInt64()
                      ? page_number < pages->GetInt64()
                      : data->Size() >= static_cast<rapidjson::SizeType>(k_page_size);
  page.last_id = std::to_string(page_number + 1);
  return page;
}

// DashScope takes no client tag and lists neither prompt nor settings: the model, within the
// reconciler's time window, is all there is to match.
bool WanProvider::matches(const JobSpec& spec, const std::string&, const RemoteVideo& video) const {
  return video.model == spec.model;
}

Result<std::string> WanProvider::parse_character(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "Wan has no character route");
}

}  // namespace vb
