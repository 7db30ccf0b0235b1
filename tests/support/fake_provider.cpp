#include "support/fake_provider.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace vb::fake {

namespace {

Result<rapidjson::Document> parse_object(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return fail(ErrorCode::protocol, "the fake provider's answer is not a JSON object");
  }
  return doc;
}

std::string text(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  return it != object.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

RemoteStatus status_of(const rapidjson::Value& task) {
  RemoteStatus status;
  status.raw_status = text(task, "state");
  const std::string& s = status.raw_status;
  status.phase = s == "queued"    ? RemotePhase::queued
                 : s == "running" ? RemotePhase::running
                 : s == "done"    ? RemotePhase::completed
                 : s == "failed"  ? RemotePhase::failed
                                  : RemotePhase::unknown;
  if (auto it = task.FindMember("progress"); it != task.MemberEnd() && it->value.IsNumber()) {
    status.progress = it->value.GetDouble();
  }
  status.video_url = text(task, "url");
  status.thumbnail_url = text(task, "thumb");
  status.error_code = text(task, "error");
  status.error_message = status.error_code;
  return status;
}

std::string json_string(const std::string& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  return buf.GetString();
}

HttpRequest get(std::string url) {
  HttpRequest req;
  req.url = std::move(url);
  req.with_auth = true;
  return req;
}

}  // namespace

AnswerClass FakeProvider::classify(RequestPhase phase, const HttpResult& result, Millis) const {
  if (result.failure != TransportFailure::none) {
    return classify_transport_failure(phase, result);
  }
  const int code = result.response.status;
  const std::string where = "HTTP " + std::to_string(code);
  if (code >= 200 && code < 300) {
    return {AnswerKind::ok, {}, {}, {}};
  }
  if (code == 429) {
    return {AnswerKind::slow_down, {}, "http_429", where};
  }
  if (code == 401 || (code == 403 && phase != RequestPhase::download)) {
    return {AnswerKind::stop_run, {}, "auth", where};
  }
  if (phase == RequestPhase::download && (code == 403 || code == 404 || code == 410)) {
    return {AnswerKind::expired, {}, {}, where};
  }
  if (code >= 500) {
    bool busy = result.response.body.find("\"busy\":true") != std::string::npos;
    if (phase == RequestPhase::submit && !busy) {
      return {AnswerKind::ambiguous, {}, "create_ambiguous", where + " after the create left"};
    }
    return {busy ? AnswerKind::slow_down : AnswerKind::retry, {}, {}, where};
  }
  return {AnswerKind::rejected, {}, "http_" + std::to_string(code), where};
}

Result<HttpRequest> FakeProvider::create_request(const JobSpec& spec, const CreateContext&) const {
  HttpRequest req;
  req.method = "POST";
  req.url = m_base + "/tasks";
  req.with_auth = true;
  req.headers.push_back({"content-type", "application/json"});
  req.body = R"({"prompt":)" + json_string(spec.prompt) + "}";
  return req;
}

Result<CreateAnswer> FakeProvider::parse_create(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  CreateAnswer answer;
  answer.remote_id = text(doc, "id");
  if (answer.remote_id.empty()) {
    return fail(ErrorCode::protocol, "the create answer names no task id");
  }
  answer.status = status_of(doc);
  return answer;
}

HttpRequest FakeProvider::query_request(const JobSpec&, const std::string& remote_id) const {
  return get(m_base + "/tasks/" + remote_id);
}

Result<RemoteStatus> FakeProvider::parse_query(const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  return status_of(doc);
}

HttpRequest FakeProvider::download_request(const std::string& remote_id,
                                           const RemoteStatus& status) const {
  if (!status.video_url.empty()) {
    HttpRequest req;
    req.url = status.video_url;  // a CDN URL: no key
    return req;
  }
  return get(m_base + "/tasks/" + remote_id + "/file");
}

std::optional<HttpRequest> FakeProvider::thumbnail_request(const std::string&,
                                                           const RemoteStatus& status) const {
  if (!m_caps.thumbnails || status.thumbnail_url.empty()) {
    return std::nullopt;
  }
  HttpRequest req;
  req.url = status.thumbnail_url;
  return req;
}

Result<std::string> FakeProvider::parse_content_redirect(std::string_view json_body) const {
  auto doc = VB_TRY(parse_object(json_body));
  std::string url = text(doc, "url");
  if (url.empty()) {
    return fail(ErrorCode::protocol, "the content answer names no URL");
  }
  return url;
}

HttpRequest FakeProvider::list_request(const std::string& after_id) const {
  return get(m_base + "/tasks?after=" + after_id);
}

Result<RemotePage> FakeProvider::parse_list(const std::string&,
                                            const HttpResponse& response) const {
  auto doc = VB_TRY(parse_object(response.body));
  auto items = doc.FindMember("items");
  if (items == doc.MemberEnd() || !items->value.IsArray()) {
    return fail(ErrorCode::protocol, "the listing has no items");
  }
  RemotePage page;
  for (const auto& item : items->value.GetArray()) {
    if (!item.IsObject()) {
      continue;
    }
    RemoteVideo video;
    video.id = text(item, "id");
    video.prompt = text(item, "prompt");
    if (auto it = item.FindMember("created_ms"); it != item.MemberEnd() && it->value.IsInt64()) {
      video.created_at = it->value.GetInt64();
    }
    video.status = status_of(item);
    page.videos.push_back(std::move(video));
  }
  auto more = doc.FindMember("more");
  page.has_more = more != doc.MemberEnd() && more->value.IsBool() && more->value.GetBool();
  page.last_id = page.videos.empty() ? "" : page.videos.back().id;
  return page;
}

bool FakeProvider::matches(const JobSpec& spec, const std::string&,
                           const RemoteVideo& video) const {
  return spec.prompt == video.prompt;
}

HttpRequest FakeProvider::character_request(const std::string&, const std::string&) const {
  return get(m_base + "/no-characters");
}

Result<std::string> FakeProvider::parse_character(const HttpResponse&) const {
  return fail(ErrorCode::protocol, "the fake dialect has no characters");
}

void FakeTaskServer::install(FakeTransport& net) {
  // The first matching rule answers: the longer URL parts come first.
  net.on("GET", "/cdn/", [this](const HttpRequest& request, int) {
    FakeAnswer a;
    a.body = request.url.ends_with(".jpg") ? std::string("thumb") : video;
    a.header("content-type", request.url.ends_with(".jpg") ? "image/jpeg" : "video/mp4");
    return a;
  });
  net.on("GET", m_base + "/tasks?", [this](const HttpRequest& request, int) {
    if (!m_caps.listing) {
      return FakeAnswer::json(404, R"({"fault":"no such route"})");
    }
    return list(request);
  });
  net.on("GET", m_base + "/tasks/", [this](const HttpRequest& request, int) {
    if (request.url.ends_with("/file")) {
      if (!m_caps.downloads_by_id) {
        return FakeAnswer::json(404, R"({"fault":"no such route"})");
      }
      FakeAnswer a;
      a.body = video;
      a.header("content-type", "video/mp4");
      return a;
    }
    return query(request);
  });
  net.on("POST", m_base + "/tasks",
         [this](const HttpRequest& request, int nth) { return create(request, nth); });
}

FakeAnswer FakeTaskServer::create(const HttpRequest& request, int nth) {
  auto doc = parse_object(request.body);
  if (!doc) {
    return FakeAnswer::json(400, R"({"fault":"body is not JSON"})");
  }
  Task task{"t_" + std::to_string(nth), text(*doc, "prompt"), m_clock.now_ms(), 0};
  m_tasks[task.id] = task;
  if (m_lost.contains(nth)) {
    return FakeAnswer::failed(TransportFailure::timeout, "Operation timed out (answer lost)");
  }
  return FakeAnswer::json(200, task_json(task, false));
}

FakeAnswer FakeTaskServer::query(const HttpRequest& request) {
  const std::string id = request.url.substr(request.url.rfind('/') + 1);
  auto it = m_tasks.find(id);
  if (it == m_tasks.end()) {
    return FakeAnswer::json(404, R"({"fault":"no such task"})");
  }
  it->second.polls += 1;
  return FakeAnswer::json(200, task_json(it->second, false));
}

FakeAnswer FakeTaskServer::list(const HttpRequest& request) {
  if (list_rate_limits > 0) {
    list_rate_limits -= 1;
    return FakeAnswer::json(429, R"({"error":{"message":"too many requests"}})");
  }
  const std::string after = request.url.substr(request.url.find("after=") + 6);
  std::vector<const Task*> newest;  // newest first, as providers list
  for (const auto& [id, task] : m_tasks) {
    newest.push_back(&task);
  }
  std::sort(newest.begin(), newest.end(),
            [](const Task* a, const Task* b) { return a->created_ms > b->created_ms; });
  std::size_t from = 0;
  while (!after.empty() && from < newest.size() && newest[from]->id != after) {
    ++from;
  }
  from += after.empty() ? 0 : 1;
  std::string items;
  const std::size_t to = std::min(newest.size(), from + static_cast<std::size_t>(page_size));
  for (std::size_t i = from; i < to; ++i) {
    items += (items.empty() ? "" : ",") + task_json(*newest[i], true);
  }
  return FakeAnswer::json(200, R"({"items":[)" + items + R"(],"more":)" +
                                   (to < newest.size() ? "true" : "false") + "}");
}

bool FakeTaskServer::finished(const Task& task) const {
  return task.polls >= 2 || m_clock.now_ms() - task.created_ms >= run_ms;
}

std::string FakeTaskServer::task_json(const Task& task, bool with_prompt) const {
  const bool fails = !m_fail_text.empty() && task.prompt.find(m_fail_text) != std::string::npos;
  std::string state = !finished(task) ? (task.polls == 0 ? "queued" : "running")
                      : fails         ? "failed"
                                      : "done";
  std::string out = R"({"id":")" + task.id + R"(","state":")" + state + "\"";
  out += R"(,"created_ms":)" + std::to_string(task.created_ms);
  if (with_prompt) {
    out += R"(,"prompt":)" + json_string(task.prompt);
  }
  if (state == "done") {
    out += R"(,"progress":100,"url":"https://cdn.test/cdn/)" + task.id + R"(.mp4")";
    if (m_caps.thumbnails) {
      out += R"(,"thumb":"https://cdn.test/cdn/)" + task.id + R"(.jpg")";
    }
  }
  if (state == "failed") {
    out += R"(,"error":")" + m_fail_error + "\"";
  }
  return out + "}";
}

}  // namespace vb::fake
