#include "provider/answer_parser.h"

#include <rapidjson/document.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vb {

namespace {

using Value = rapidjson::Value;

const Value* member(const Value& obj, const char* key) {
  if (!obj.IsObject()) {
    return nullptr;
  }
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

const Value* path(const Value& root, std::initializer_list<const char*> keys) {
  const Value* v = &root;
  for (const char* key : keys) {
    v = member(*v, key);
    if (v == nullptr) {
      return nullptr;
    }
  }
  return v;
}

std::string text(const Value* v) {
  if (v == nullptr || !v->IsString()) {
    return {};
  }
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<double> number(const Value* v) {
  if (v == nullptr) {
    return std::nullopt;
  }
  if (v->IsNumber()) {
    return v->GetDouble();
  }
  if (v->IsString()) {
    // Some gateways send progress as a string ("0", "45%").
    const char* s = v->GetString();
    char* end = nullptr;
    double d = std::strtod(s, &end);
    if (end != s) {
      return d;
    }
  }
  return std::nullopt;
}

bool is_http_url(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

// progress (percent) or progress_pct (a 0..1 fraction); nonsense is dropped, never divided by.
std::optional<double> read_progress(const Value& root) {
  std::optional<double> pct = number(member(root, "progress"));
  if (!pct) {
    if (auto fraction = number(path(root, {"detail", "pending_info", "progress_pct"}))) {
      pct = *fraction * 100.0;
    }
  }
  if (!pct || !std::isfinite(*pct) || *pct < 0.0 || *pct > 100.0) {
    return std::nullopt;
  }
  return pct;
}

// A timestamp in seconds (the official object) or, past 1e12, already in
// milliseconds. Nonsense (negative, not finite, past the range of Millis) is
// dropped: converting such a double to an integer is undefined behaviour
// (found by tools/fuzz; regressions in tests/fuzz/regressions/answer/).
std::optional<Millis> epoch_millis(double v) {
  if (!std::isfinite(v) || v <= 0) {
    return std::nullopt;
  }
  const double ms = v > 1e12 ? v : v * 1000.0;
  if (ms >= 9.0e18) {
    return std::nullopt;
  }
  return static_cast<Millis>(ms);
}

std::optional<Millis> read_expiry(const Value& root) {
  auto v = number(member(root, "expires_at"));
  return v ? epoch_millis(*v) : std::nullopt;
}

void read_failure(const Value& root, RemoteStatus& status) {
  const Value* error = member(root, "error");
  if (error != nullptr && error->IsObject()) {
    status.error_code = text(member(*error, "code"));
    status.error_message = text(member(*error, "message"));
  } else if (error != nullptr && error->IsString()) {
    status.error_message = text(error);
  }
  const Value* pending = path(root, {"detail", "pending_info"});
  if (pending != nullptr) {
    if (status.error_message.empty()) {
      status.error_message = text(member(*pending, "failure_reason"));
    }
    std::string moderation = text(path(*pending, {"moderation_result", "type"}));
    if (status.error_code.empty() && !moderation.empty() && moderation != "passed") {
      status.error_code = "moderation_blocked";
    }
  }
  if (status.error_message.empty()) {
    status.error_message = text(member(root, "fail_reason"));
  }
}

std::string url_in(const Value& root) {
  for (auto keys : {std::initializer_list<const char*>{"video_url"},
                    {"url"},
                    {"detail", "url"},
                    {"detail", "draft_info", "downloadable_url"},
                    {"metadata", "url"}}) {
    std::string url = text(path(root, keys));
    if (is_http_url(url)) {
      return url;
    }
  }
  return {};
}

}  // namespace

Result<rapidjson::Document> parse_object(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return fail(ErrorCode::protocol,
                "the answer is not a JSON object: " + error_message_from_body(body));
  }
  return doc;
}

const rapidjson::Value* json_member(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) {
    return nullptr;
  }
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string json_string(const rapidjson::Value& object, const char* key) {
  const rapidjson::Value* v = json_member(object, key);
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

void json_put(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
              const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

Status check_frame_urls(const JobSpec& spec, const std::string& vendor) {
  if (spec.images.size() > 2) {
    return fail(ErrorCode::invalid_input,
                "images: " + vendor + " takes a first frame and optionally a last frame, not " +
                    std::to_string(spec.images.size()) + " images");
  }
  for (const auto& image : spec.images) {
    if (!image.starts_with("https://") && !image.starts_with("http://")) {
      return fail(ErrorCode::invalid_input, "images: '" + image + "' is a local file; this " +
                                                vendor +
                                                " route takes image URLs (give its https:// URL)");
    }
  }
  return {};
}

HttpRequest json_post(std::string url, std::string body) {
  HttpRequest req;
  req.method = "POST";
  req.url = std::move(url);
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = std::move(body);
  req.with_auth = true;
  return req;
}

namespace {

// A video object's status fields, as a query answer or a list entry carries them.
RemoteStatus status_of(const Value& video) {
  RemoteStatus status;
  status.raw_status = text(member(video, "status"));
  status.phase = map_status(status.raw_status);
  status.progress = read_progress(video);
  status.video_url = url_in(video);
  status.thumbnail_url = text(member(video, "thumbnail_url"));
  status.expires_at = read_expiry(video);
  if (status.phase == RemotePhase::failed) {
    read_failure(video, status);
    if (status.error_code.empty()) {
      status.error_code = "generation_failed";
    }
  }
  return status;
}

}  // namespace

Result<RemoteStatus> parse_status_answer(std::string_view body) {
  auto doc = VB_TRY(parse_object(body));
  RemoteStatus status = status_of(doc);
  if (status.raw_status.empty()) {
    return fail(ErrorCode::protocol, "the answer has no status: " + error_message_from_body(body));
  }
  return status;
}

Result<std::string> parse_answer_id(std::string_view body) {
  auto doc = VB_TRY(parse_object(body));
  std::string id = text(member(doc, "id"));
  if (id.empty() || id.size() > 512) {
    return fail(ErrorCode::protocol,
                "the create answer has no usable id: " + error_message_from_body(body));
  }
  return id;
}

Result<RemotePage> parse_video_list(std::string_view body) {
  auto doc = VB_TRY(parse_object(body));
  const Value* data = member(doc, "data");
  if (data == nullptr || !data->IsArray()) {
    return fail(ErrorCode::protocol,
                "the video list has no data array: " + error_message_from_body(body));
  }
  RemotePage page;
  for (const auto& item : data->GetArray()) {
    RemoteVideo v;
    v.id = text(member(item, "id"));
    if (v.id.empty()) {
      continue;
    }
    v.prompt = text(member(item, "prompt"));
    v.model = text(member(item, "model"));
    v.size = text(member(item, "size"));
    v.seconds = text(member(item, "seconds"));
    if (auto secs = number(member(item, "seconds"));
        secs && v.seconds.empty() && std::isfinite(*secs) && *secs >= 0 && *secs < 1e9) {
      v.seconds = std::to_string(static_cast<int>(*secs));
    }
    if (auto created = number(member(item, "created_at"))) {
      v.created_at = epoch_millis(*created).value_or(0);
    }
    v.status = status_of(item);
    page.videos.push_back(std::move(v));
  }
  const Value* more = member(doc, "has_more");
  page.has_more = more != nullptr && more->IsBool() && more->GetBool();
  page.last_id = text(member(doc, "last_id"));
  if (page.last_id.empty() && !page.videos.empty()) {
    page.last_id = page.videos.back().id;
  }
  return page;
}

std::string find_video_url(std::string_view body) {
  auto doc = parse_object(body);
  return doc ? url_in(*doc) : std::string{};
}

std::string encode_path_segment(std::string_view in) {
  static const char* k_hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

std::string error_message_from_body(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    const Value* error = member(doc, "error");
    std::string message = error != nullptr && error->IsObject() ? text(member(*error, "message"))
                                                                : text(error);
    if (message.empty()) {
      message = text(member(doc, "message"));
    }
    if (!message.empty()) {
      return message.substr(0, 500);
    }
  }
  std::string excerpt;
  for (char c : body.substr(0, 200)) {
    excerpt += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  if (body.size() > 200) {
    excerpt += "...";
  }
  return excerpt.empty() ? "(empty body)" : excerpt;
}

}  // namespace vb
