#include "provider/chat_provider.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "job/failure_codes.h"
#include "provider/answer_parser.h"
#include "provider/openai_answers.h"
#include "util/text_util.h"

namespace vb {

namespace {

constexpr std::string_view k_data = "data:";

bool contains_any(const std::string& haystack, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(), [&](std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
  });
}

// One event's JSON: a chunk ({choices:[{delta:{content}}]}), a whole completion
// ({choices:[{message:{content}}]}) or an error ({error:{message, type, code}}).
void read_event(const rapidjson::Value& doc, ChatStream& stream) {
  if (const rapidjson::Value* error = json_member(doc, "error"); error != nullptr) {
    stream.error = true;
    stream.text_before_error = !stream.text.empty();
    if (error->IsObject()) {
      stream.error_type = json_string(*error, "type");
      stream.error_code = json_string(*error, "code");
      stream.error_message = json_string(*error, "message");
    } else if (error->IsString()) {
      stream.error_message = error->GetString();
    }
    return;
  }
  if (stream.id.empty()) {
    stream.id = json_string(doc, "id");
  }
  const rapidjson::Value* choices = json_member(doc, "choices");
  if (choices == nullptr || !choices->IsArray() || choices->Empty()) {
    return;
  }
  const rapidjson::Value& choice = (*choices)[0];
  for (const char* part : {"delta", "message"}) {
    if (const rapidjson::Value* message = json_member(choice, part)) {
      stream.text += json_string(*message, "content");
    }
  }
  const rapidjson::Value* reason = json_member(choice, "finish_reason");
  stream.finished = stream.finished || (reason != nullptr && reason->IsString());
}

void read_payload(std::string_view payload, ChatStream& stream) {
  if (payload == "[DONE]") {
    stream.finished = true;
    return;
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(payload.data(), payload.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    read_event(doc, stream);
  }
}

// The last "N%" in the text, N in 0..100.
std::optional<double> last_percent(std::string_view text) {
  for (auto at = text.rfind('%'); at != std::string_view::npos && at > 0;
       at = text.rfind('%', at - 1)) {
    std::size_t begin = at;
    while (begin > 0 &&
           (std::isdigit(static_cast<unsigned char>(text[begin - 1])) || text[begin - 1] == '.')) {
      --begin;
    }
    double value = 0;
    auto [end, ec] = std::from_chars(text.data() + begin, text.data() + at, value);
    if (ec == std::errc{} && end == text.data() + at && value >= 0 && value <= 100) {
      return value;
    }
  }
  return std::nullopt;
}

AnswerClass with(AnswerKind kind, std::string code, std::string detail) {
  return {kind, std::nullopt, std::move(code), std::move(detail)};
}

// An error event inside a 200 stream. The gateway took the request, so a video may be under
// way: only an error that says it refused the request (pacing, quota, key, an invalid request)
// before the assistant said anything proves that no work was done.
AnswerClass classify_stream_error(const ChatStream& stream) {
  const std::string what =
      "an error in the chat stream: " +
      (stream.error_message.empty() ? stream.error_code : stream.error_message.substr(0, 300));
  const std::string words =
      ascii_lower(stream.error_type + " " + stream.error_code + " " + stream.error_message);
  if (!stream.text_before_error) {
    if (contains_any(words, {"insufficient_quota", "quota exceeded", "insufficient balance"})) {
      return with(AnswerKind::stop_run, failure::insufficient_quota,
                  "the gateway says the account has no quota left (" + what + ")");
    }
    if (contains_any(words, {"invalid_api_key", "authentication_error", "unauthorized"})) {
      return with(AnswerKind::stop_run, failure::auth(401),
                  "the gateway refused the API key (" + what + "); check the key variable");
    }
    if (contains_any(words, {"rate_limit", "too many requests", "overloaded"})) {
      return with(AnswerKind::slow_down, "rate_limit_exceeded", what);
    }
    if (contains_any(words, {"invalid_request_error", "model_not_found", "does not exist"})) {
      return with(AnswerKind::rejected, "invalid_request", what);
    }
  } else if (contains_any(words, {"moderation", "content policy", "safety"})) {
    return with(AnswerKind::rejected, "moderation", what);  // generation refused: no video
  }
  return with(AnswerKind::ambiguous, failure::create_ambiguous,
              what + "; the video may have been started");
}

// The route's models: sora-2 and sora-2-pro make a 10 s portrait video; sora_video2 takes its
// orientation and length in its name.
bool pro_model(const std::string& model) {
  return model == "sora-2-pro";
}

std::string route_model(const JobSpec& spec) {
  if (spec.model != "sora_video2") {
    return spec.model;
  }
  std::string name = spec.model;
  if (spec.orientation == Orientation::landscape) {
    name += "-landscape";
  }
  if (spec.seconds != 10) {
    name += "-" + std::to_string(spec.seconds) + "s";
  }
  return name;
}

Status invalid(std::string message) {
  return fail(ErrorCode::invalid_input, std::move(message));
}

}  // namespace

ChatStream read_chat_stream(std::string_view body) {
  ChatStream stream;
  const std::string_view whole = trim(body);
  if (whole.starts_with('{')) {
    read_payload(whole, stream);  // one chat.completion: stream:false answered
    return stream;
  }
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find('\n', at);
    std::string_view line = body.substr(at, end == std::string_view::npos ? body.npos : end - at);
    at = end == std::string_view::npos ? body.size() : end + 1;
    if (line.starts_with(k_data)) {
      read_payload(trim(line.substr(k_data.size())), stream);
    }
  }
  return stream;
}

std::string chat_video_url(std::string_view text) {
  for (auto at = text.rfind("]("); at != std::string_view::npos; at = text.rfind("](", at - 1)) {
    const std::size_t begin = at + 2;
    const std::size_t end = text.find(')', begin);
    const std::string_view url = trim(text.substr(begin, end == text.npos ? 0 : end - begin));
    if (url.starts_with("https://") || url.starts_with("http://")) {
      return std::string(url);
    }
    if (at == 0) {
      break;
    }
  }
  for (auto at = text.rfind("http"); at != std::string_view::npos;
       at = at == 0 ? text.npos : text.rfind("http", at - 1)) {
    std::size_t end = at;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != ')' && text[end] != '"' && text[end] != '<') {
      ++end;
    }
    const std::string_view url = text.substr(at, end - at);
    if ((url.starts_with("https://") || url.starts_with("http://")) &&
        url.find(".mp4") != std::string_view::npos) {
      return std::string(url);
    }
  }
  return "";
}

ChatProvider::ChatProvider(ProviderConfig config) : m_config(std::move(config)) {}

Status ChatProvider::check(const JobSpec& spec) const {
  if (spec.derived != DerivedKind::none || !spec.characters.empty() ||
      !spec.character_url.empty()) {
    return invalid(
        "the chat route has no remix, edit, extension or character (use the openai "
        "or unified dialect for this job)");
  }
  if (spec.watermark || spec.private_video) {
    return invalid(std::string(spec.watermark ? "watermark" : "private") +
                   ": the chat route sends only a model and a message; leave it out");
  }
  if (spec.model != "sora-2" && spec.model != "sora-2-pro" && spec.model != "sora_video2") {
    return invalid(
        "model: the chat route's video models are sora-2, sora-2-pro and "
        "sora_video2 (vidbatch adds -landscape and -15s / -25s from orientation and "
        "seconds), got '" +
        spec.model + "'");
  }
  if (spec.model == "sora_video2") {
    if (spec.seconds != 10 && spec.seconds != 15 && spec.seconds != 25) {
      return invalid("seconds: sora_video2 on the chat route makes 10, 15 or 25 s, got " +
                     std::to_string(spec.seconds));
    }
  } else {
    if (spec.seconds != 10) {
      return invalid("seconds: the chat route has no length field; " + spec.model +
                     " makes 10 s there (sora_video2 takes 15 or 25), got " +
                     std::to_string(spec.seconds));
    }
    if (spec.orientation != Orientation::portrait) {
      return invalid("orientation: the chat route has no orientation field; " + spec.model +
                     " makes portrait videos there (sora_video2 takes landscape)");
    }
  }
  if (spec.size != delivered_size(spec)) {
    return invalid("size: the chat route has no size field; " + spec.model + " makes " +
                   delivered_size(spec) + " videos there, got '" + spec.size + "'");
  }
  if (spec.images.size() > 1) {
    return invalid("images: the chat route takes one image, got " +
                   std::to_string(spec.images.size()));
  }
  return check_frame_urls(spec, "chat");
}

AnswerClass ChatProvider::classify(RequestPhase phase, const HttpResult& result, Millis now) const {
  const int s = result.response.status;
  if (result.failure == TransportFailure::none && phase == RequestPhase::submit && s >= 200 &&
      s < 300) {
    const ChatStream stream = read_chat_stream(result.response.body);
    return stream.error ? classify_stream_error(stream) : AnswerClass{};
  }
  // A transport failure (a stream cut after the request left is ambiguous), or the gateway's
  // HTTP answer before any stream: its OpenAI error envelope.
  return classify_openai_answer(phase, result, now);
}

Result<HttpRequest> ChatProvider::create_request(const JobSpec& spec, const CreateContext&) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  json_put(w, "model", route_model(spec));
  w.Key("stream");
  w.Bool(true);
  w.Key("messages");
  w.StartArray();
  w.StartObject();
  json_put(w, "role", "user");
  w.Key("content");
  w.StartArray();
  w.StartObject();
  json_put(w, "type", "text");
  json_put(w, "text", spec.prompt);
  w.EndObject();
  for (const auto& image : spec.images) {
    w.StartObject();
    json_put(w, "type", "image_url");
    w.Key("image_url");
    w.StartObject();
    json_put(w, "url", image);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  HttpRequest request =
      json_post(m_config.base_url + "/chat/completions", {buf.GetString(), buf.GetSize()});
  request.headers.push_back({"Accept", "text/event-stream"});
  return request;
}

Result<CreateAnswer> ChatProvider::parse_create(const HttpResponse& response) const {
  const ChatStream stream = read_chat_stream(response.body);
  const std::string url = chat_video_url(stream.text);
  CreateAnswer answer;
  if (!url.empty()) {
    answer.remote_id = url;
    answer.status.phase = RemotePhase::completed;
    answer.status.raw_status = "video link";
    answer.status.video_url = url;
    answer.status.progress = 100.0;
    return answer;
  }
  const std::string words = ascii_lower(stream.text);
  if (stream.finished && contains_any(words, {"fail", "error", "失败"})) {
    answer.remote_id = stream.id.empty() ? "chat" : stream.id;
    answer.status.phase = RemotePhase::failed;
    answer.status.raw_status = "failed";
    answer.status.error_code = "chat_failed";
    answer.status.error_message =
        "the chat route says the video failed: " + std::string(trim(stream.text)).substr(0, 300);
    return answer;
  }
  return fail(ErrorCode::protocol,
              std::string(stream.finished ? "the chat stream ended" : "the chat stream broke off") +
                  " without a video link or a failure (it said: \"" +
                  std::string(trim(stream.text)).substr(0, 200) + "\")");
}

std::optional<double> ChatProvider::stream_progress(std::string_view lines) const {
  return last_percent(read_chat_stream(lines).text);
}

Result<RemoteStatus> ChatProvider::parse_query(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "the chat route has no status query");
}

HttpRequest ChatProvider::download_request(const std::string& remote_id,
                                           const RemoteStatus& status) const {
  HttpRequest req;
  req.url = status.video_url.empty() ? remote_id : status.video_url;
  req.with_auth = false;  // an address read out of free text never gets the key
  return req;
}

Result<std::string> ChatProvider::parse_content_redirect(std::string_view body) const {
  return fail(ErrorCode::protocol,
              "the chat route's video link answered JSON instead of the "
              "video: " +
                  error_message_from_body(body));
}

std::string ChatProvider::delivered_size(const JobSpec& spec) const {
  return pro_model(spec.model) ? "large" : "small";
}

}  // namespace vb
