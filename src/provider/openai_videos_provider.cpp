#include "provider/openai_videos_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "provider/answer_parser.h"
#include "provider/unified_task_provider.h"

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

std::string json_create_body(const JobSpec& spec, const std::string& size) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("model", spec.model);
  str("prompt", spec.prompt);
  str("seconds", std::to_string(spec.seconds));
  str("size", size);
  w.Key("input_reference");
  w.StartObject();
  str("image_url", spec.images.front());
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
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

Status OpenAiVideosProvider::check(const JobSpec& spec) const {
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
      return fail(ErrorCode::invalid_input,
                  "size: " + size + " (large) needs sora-2-pro; use size: small with " +
                      spec.model);
    }
  }
  return {};
}

Result<HttpRequest> OpenAiVideosProvider::create_request(const JobSpec& spec) const {
  HttpRequest req;
  req.method = "POST";
  req.url = m_config.base_url + "/videos";
  req.with_auth = true;
  std::string size = wire_size(spec);
  if (!spec.images.empty() && is_url(spec.images.front())) {
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = json_create_body(spec, size);
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
  return req;
}

Result<CreateAnswer> OpenAiVideosProvider::parse_create(const HttpResponse& response) const {
  auto id = parse_answer_id(response.body);
  if (!id) {
    return std::unexpected(id.error());
  }
  CreateAnswer answer{*id, {}};
  if (auto status = parse_status_answer(response.body)) {
    answer.status = *status;
  } else {
    answer.status.phase = RemotePhase::queued;  // an id alone means accepted
  }
  return answer;
}

HttpRequest OpenAiVideosProvider::query_request(const std::string& remote_id) const {
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

Result<std::string> OpenAiVideosProvider::parse_content_redirect(std::string_view body) const {
  std::string url = find_video_url(body);
  if (url.empty()) {
    return fail(ErrorCode::protocol, "the content answer is JSON without a video URL: " +
                                         error_message_from_body(body));
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

Result<RemotePage> OpenAiVideosProvider::parse_list(const HttpResponse& response) const {
  return parse_video_list(response.body);
}

bool OpenAiVideosProvider::matches(const JobSpec& spec, const RemoteVideo& video) const {
  return video.prompt == spec.prompt && video.model == spec.model &&
         video.size == wire_size(spec) && video.seconds == std::to_string(spec.seconds);
}

std::unique_ptr<VideoProvider> make_provider(const ProviderConfig& config) {
  if (config.dialect == "unified") {
    return std::make_unique<UnifiedTaskProvider>(config);
  }
  return std::make_unique<OpenAiVideosProvider>(config);
}

}  // namespace vb
