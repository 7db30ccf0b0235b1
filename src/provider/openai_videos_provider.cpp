#include "provider/openai_videos_provider.h"

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

std::string image_content_type(const std::string& path) {
  auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (auto& c : ext) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (ext == "png") {
    return "image/png";
  }
  if (ext == "webp") {
    return "image/webp";
  }
  return "image/jpeg";
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void put(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

void put_characters(JsonWriter& w, const CreateContext& context) {
  if (context.character_ids.empty()) {
    return;
  }
  w.Key("characters");
  w.StartArray();
  for (const auto& id : context.character_ids) {
    w.StartObject();
    put(w, "id", id);
    w.EndObject();
  }
  w.EndArray();
}

std::string json_create_body(const JobSpec& spec, const std::string& size,
                             const CreateContext& context) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  put(w, "model", spec.model);
  put(w, "prompt", spec.prompt);
  put(w, "seconds", std::to_string(spec.seconds));
  put(w, "size", size);
  w.Key("input_reference");
  w.StartObject();
  put(w, "image_url", spec.images.front());
  w.EndObject();
  write_gateway_fields(w, spec);
  put_characters(w, context);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

// Remix: {prompt}; edit: {video: {id}, prompt}; extend: the same plus seconds.
std::string json_derived_body(const JobSpec& spec, const std::string& parent_id) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  put(w, "prompt", spec.prompt);
  if (spec.derived != DerivedKind::remix) {
    w.Key("video");
    w.StartObject();
    put(w, "id", parent_id);
    w.EndObject();
  }
  if (spec.derived == DerivedKind::extend) {
    put(w, "seconds", std::to_string(spec.seconds));
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string derived_path(const JobSpec& spec, const std::string& parent_id) {
  switch (spec.derived) {
    case DerivedKind::remix:
      return "/videos/" + encode_path_segment(parent_id) + "/remix";
    case DerivedKind::edit:
      return "/videos/edits";
    case DerivedKind::extend:
      return "/videos/extensions";
    case DerivedKind::none:
      break;
  }
  return "/videos";
}

void add_multipart_extras(HttpRequest& req, const JobSpec& spec, const CreateContext& context) {
  if (!spec.character_url.empty()) {
    req.form.push_back({"character_url", spec.character_url, "", ""});
    req.form.push_back({"character_timestamps", spec.character_timestamps, "", ""});
  }
  if (spec.watermark) {
    req.form.push_back({"watermark", *spec.watermark ? "true" : "false", "", ""});
  }
  if (spec.private_video) {
    req.form.push_back({"private", *spec.private_video ? "true" : "false", "", ""});
  }
  // Arrays of objects the way the official SDKs write them in multipart forms.
  for (const auto& id : context.character_ids) {
    req.form.push_back({"characters[][id]", id, "", ""});
  }
}

}  // namespace

OpenAiVideosProvider::OpenAiVideosProvider(ProviderConfig config) : m_config(std::move(config)) {}

std::string OpenAiVideosProvider::wire_size(const JobSpec& spec) {
  bool portrait = spec.orientation == Orientation::portrait;
  if (spec.size == "small") {
    return portrait ? "720x1280" : "1280x720";
  }
  if (spec.size == "large") {
    return portrait ? "1024x1792" : "1792x1024";
  }
  return spec.size;
}

AnswerClass OpenAiVideosProvider::classify(RequestPhase phase, const HttpResult& result,
                                           Millis now) const {
  return classify_openai_answer(phase, result, now);
}

Status OpenAiVideosProvider::check(const JobSpec& spec) const {
  if (spec.derived == DerivedKind::extend && spec.seconds != 4 && spec.seconds != 8 &&
      spec.seconds != 12) {
    return fail(ErrorCode::invalid_input, "seconds: an extension adds 4, 8 or 12 seconds to " +
                                              spec.parent + ", got " +
                                              std::to_string(spec.seconds));
  }
  if (spec.derived != DerivedKind::none) {
    return {};  // the parent's model and size apply
  }
  if (spec.images.size() > 1) {
    return fail(ErrorCode::invalid_input,
                "images: the OpenAI video format takes one reference image, got " +
                    std::to_string(spec.images.size()));
  }
  if (spec.model.starts_with("sora-2")) {
    // Official route: 4/8/12; the gateways' relayed routes also take 10/15/25.
    int s = spec.seconds;
    if (s != 4 && s != 8 && s != 12 && s != 10 && s != 15 && s != 25) {
      return fail(ErrorCode::invalid_input,
                  "seconds: " + std::to_string(s) + " is not offered for " + spec.model +
                      " (use 4, 8 or 12; 10, 15 or 25 on gateway routes)");
    }
    std::string size = wire_size(spec);
    bool pro = spec.model.starts_with("sora-2-pro");
    if ((size == "1024x1792" || size == "1792x1024") && !pro) {
      return fail(ErrorCode::invalid_input, "size: " + size +
                                                " (large) needs sora-2-pro; use size: small with " +
                                                spec.model);
    }
  }
  return {};
}

Result<HttpRequest> OpenAiVideosProvider::create_request(const JobSpec& spec,
                                                         const CreateContext& context) const {
  HttpRequest req;
  req.method = "POST";
  req.url = m_config.base_url + derived_path(spec, context.parent_remote_id);
  req.with_auth = true;
  if (spec.derived != DerivedKind::none) {
    if (context.parent_remote_id.empty()) {
      return fail(ErrorCode::invalid_input, std::string(to_string(spec.derived)) + ": job '" +
                                                spec.parent + "' has no video at the provider");
    }
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = json_derived_body(spec, context.parent_remote_id);
    return req;
  }
  std::string size = wire_size(spec);
  if (!spec.images.empty() && is_url(spec.images.front())) {
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = json_create_body(spec, size, context);
    return req;
  }
  req.form.push_back({"model", spec.model, "", ""});
  req.form.push_back({"prompt", spec.prompt, "", ""});
  req.form.push_back({"seconds", std::to_string(spec.seconds), "", ""});
  req.form.push_back({"size", size, "", ""});
  if (!spec.images.empty()) {
    const std::string& image = spec.images.front();
    req.form.push_back({"input_reference", "", image, image_content_type(image)});
  }
  add_multipart_extras(req, spec, context);
  return req;
}

Result<CreateAnswer> OpenAiVideosProvider::parse_create(const HttpResponse& response) const {
  auto id = VB_TRY(parse_answer_id(response.body));
  CreateAnswer answer{id, {}};
  if (auto status = parse_status_answer(response.body)) {
    answer.status = *status;
  } else {
    answer.status.phase = RemotePhase::queued;  // an id alone means accepted
  }
  return answer;
}

HttpRequest OpenAiVideosProvider::query_request(const JobSpec&,
                                                const std::string& remote_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/videos/" + encode_path_segment(remote_id);
  req.with_auth = true;
  return req;
}

Result<RemoteStatus> OpenAiVideosProvider::parse_query(const HttpResponse& response) const {
  return parse_status_answer(response.body);
}

HttpRequest OpenAiVideosProvider::download_request(const std::string& remote_id,
                                                   const RemoteStatus& status) const {
  HttpRequest req;
  req.with_auth = true;  // the transport drops it for any origin but the provider's
  if (!status.video_url.empty()) {
    req.url = status.video_url;
  } else {
    req.url = m_config.base_url + "/videos/" + encode_path_segment(remote_id) + "/content";
    req.headers.push_back({"Accept", "application/binary"});
  }
  return req;
}

// The answer's thumbnail URL where a gateway gives one, else the content route's
// `thumbnail` variant (image/webp), authenticated like the video.
std::optional<HttpRequest> OpenAiVideosProvider::thumbnail_request(
    const std::string& remote_id, const RemoteStatus& status) const {
  HttpRequest req;
  req.with_auth = true;  // the transport drops it for any origin but the provider's
  if (!status.thumbnail_url.empty()) {
    req.url = status.thumbnail_url;
  } else {
    req.url = m_config.base_url + "/videos/" + encode_path_segment(remote_id) +
              "/content?variant=thumbnail";
    req.headers.push_back({"Accept", "image/webp"});
  }
  return req;
}

Result<std::string> OpenAiVideosProvider::parse_content_redirect(std::string_view body) const {
  std::string url = find_video_url(body);
  if (url.empty()) {
    return fail(ErrorCode::protocol,
                "the content answer is JSON without a video URL: " + error_message_from_body(body));
  }
  return url;
}

HttpRequest OpenAiVideosProvider::list_request(const std::string& after_id) const {
  HttpRequest req;
  req.url = m_config.base_url + "/videos?order=desc&limit=100";
  if (!after_id.empty()) {
    req.url += "&after=" + encode_path_segment(after_id);
  }
  req.with_auth = true;
  return req;
}

Result<RemotePage> OpenAiVideosProvider::parse_list(const std::string&,
                                                    const HttpResponse& response) const {
  return parse_video_list(response.body);
}

bool OpenAiVideosProvider::matches(const JobSpec& spec, const std::string&,
                                   const RemoteVideo& video) const {
  if (spec.derived != DerivedKind::none) {
    return video.prompt == spec.prompt;  // model and size are the parent's
  }
  return video.prompt == spec.prompt && video.model == spec.model &&
         video.size == wire_size(spec) && video.seconds == std::to_string(spec.seconds);
}

HttpRequest OpenAiVideosProvider::character_request(const std::string& name,
                                                    const std::string& video_path) const {
  HttpRequest req;
  req.method = "POST";
  req.url = m_config.base_url + "/videos/characters";
  req.with_auth = true;
  req.form.push_back({"name", name, "", ""});
  req.form.push_back({"video", "", video_path, "video/mp4"});
  return req;
}

Result<std::string> OpenAiVideosProvider::parse_character(const HttpResponse& response) const {
  return parse_answer_id(response.body);  // {id, name, created_at}; a null id is an error
}

}  // namespace vb
