// Kling's native routes (--dialect kling): create on the family paths text2video / image2video,
// query on the family it was created on, list pages per family. Directly with Kling's JWT, or
// behind --gateway-prefix with a Bearer key, answering natively or in new-api's taskdto shape.
#include "base64.h"
#include "gateway_json.h"
#include "native.h"
#include "prng.h"

#include "json_out.h"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace sim {

namespace {

constexpr size_t k_max_prompt = 2500;
constexpr int k_max_page_num = 1000;
constexpr int k_max_page_size = 500;
constexpr std::string_view k_policy_message =
    "Failure to pass the risk control system: the content may violate the content policy";

constexpr std::array<std::string_view, 7> k_text_models = {"kling-v1",         "kling-v1-6",
                                                           "kling-v2-master",  "kling-v2-1-master",
                                                           "kling-v2-5-turbo", "kling-v2-6",
                                                           "kling-v3"};
constexpr std::array<std::string_view, 2> k_image_only_models = {"kling-v1-5", "kling-v2-1"};

VendorError invalid(std::string message) {
  return {400, "1201", std::move(message)};
}

bool known_model(const std::string& model, bool image2video) {
  const auto in = [&model](const auto& list) {
    return std::find(list.begin(), list.end(), model) != list.end();
  };
  return in(k_text_models) || (image2video && in(k_image_only_models));
}

bool duration_allowed(const std::string& model, const std::string& duration) {
  if (model == "kling-v3") {
    const int seconds = std::atoi(duration.c_str());
    return std::to_string(seconds) == duration && seconds >= 3 && seconds <= 15;
  }
  return duration == "5" || duration == "10";
}

// A URL, or raw Base64 of a JPEG or PNG without the data: prefix.
std::optional<VendorError> check_image(const Fields& fields, const std::string& name) {
  const auto it = fields.find(name);
  if (it == fields.end()) {
    return std::nullopt;
  }
  if (it->second.kind != FieldKind::string || it->second.text.empty()) {
    return invalid(name + " must be a non-empty string: an image URL or Base64 data");
  }
  const std::string& value = it->second.text;
  if (value.starts_with("http://") || value.starts_with("https://")) {
    return std::nullopt;
  }
  if (value.starts_with("data:")) {
    return invalid(name + " is invalid: send raw Base64 without the data:image/...;base64, prefix");
  }
  const auto bytes = base64_decode(value, Base64Alphabet::standard);
  const bool jpeg = bytes && bytes->starts_with("\xff\xd8\xff");
  const bool png = bytes && bytes->starts_with("\x89PNG");
  if (!jpeg && !png) {
    return invalid(name + " is invalid: not a URL, nor Base64 of a jpg/jpeg/png image");
  }
  return std::nullopt;
}

std::optional<VendorError> check_string(const Fields& fields, const std::string& name,
                                        size_t max_length) {
  const auto it = fields.find(name);
  if (it == fields.end()) {
    return std::nullopt;
  }
  if (it->second.kind != FieldKind::string) {
    return invalid(name + " must be a string");
  }
  if (it->second.text.size() > max_length) {
    return invalid(name + " must be at most " + std::to_string(max_length) + " characters");
  }
  return std::nullopt;
}

void set_dimensions(Video& video, const std::string& aspect_ratio) {
  const int side = video.mode == "pro" ? 1080 : 720;
  const int wide = video.mode == "pro" ? 1920 : 1280;
  video.width = aspect_ratio == "9:16" ? side : (aspect_ratio == "1:1" ? side : wide);
  video.height = aspect_ratio == "16:9" ? side : (aspect_ratio == "1:1" ? side : wide);
  video.orientation = video.width > video.height ? "landscape" : "portrait";
}

// Fills `video` from a create body; the vendor's refusal when the body is not acceptable. Behind
// new-api (taskdto) the gateway rebuilds the body first: its defaults (aspect_ratio 1:1, not
// Kling's 16:9), an integer duration formatted as a string, the family chosen by the image.
std::optional<VendorError> read_create(const SimContext& ctx, const Fields& fields,
                                       bool image2video, Video& video) {
  const bool relayed = ctx.options.gateway_shape == GatewayShape::taskdto;
  if (relayed) {
    image2video = fields.contains("image") || fields.contains("image_tail");
  }
  video.family = image2video ? "image2video" : "text2video";
  if (fields.contains("model_name") && !string_field(fields, "model_name")) {
    return invalid("model_name must be a string");
  }
  video.model = string_field(fields, "model_name").value_or("kling-v1");
  if (!known_model(video.model, image2video)) {
    return VendorError{404, "1203",
                       "model_name not found for " + video.family + ": " + video.model};
  }
  const auto prompt = string_field(fields, "prompt");
  if (!image2video && prompt.value_or("").empty()) {
    return invalid("prompt is required");
  }
  for (auto check : {check_string(fields, "prompt", k_max_prompt),
                     check_string(fields, "negative_prompt", k_max_prompt),
                     check_string(fields, "external_task_id", 256)}) {
    if (check) {
      return check;
    }
  }
  video.prompt = prompt.value_or("");
  video.mode = string_field(fields, "mode").value_or("std");
  if (video.mode != "std" && video.mode != "pro") {
    return invalid("mode must be std or pro");
  }
  const auto duration = fields.find("duration");
  const bool integer = duration != fields.end() && duration->second.kind == FieldKind::integer;
  if (duration != fields.end() && duration->second.kind != FieldKind::string &&
      !(relayed && integer)) {
    return invalid("duration must be a string, e.g. \"5\"");
  }
  video.seconds = duration == fields.end() ? "5" : duration->second.text;
  if (!duration_allowed(video.model, video.seconds)) {
    return invalid("duration " + video.seconds + " is not supported by " + video.model);
  }
  const std::string aspect =
      string_field(fields, "aspect_ratio").value_or(relayed ? "1:1" : "16:9");
  if (aspect != "16:9" && aspect != "9:16" && aspect != "1:1") {
    return invalid("aspect_ratio must be one of 16:9, 9:16, 1:1");
  }
  if (image2video && !fields.contains("image")) {
    return invalid("image is required");
  }
  if (image2video) {
    for (const char* name : {"image", "image_tail"}) {
      if (auto error = check_image(fields, name)) {
        return error;
      }
    }
  }
  if (fields.contains("cfg_scale")) {
    const auto& cfg = fields.at("cfg_scale");
    const double value = std::atof(cfg.text.c_str());
    if ((cfg.kind != FieldKind::number && cfg.kind != FieldKind::integer) || value < 0.0 ||
        value > 1.0) {
      return invalid("cfg_scale must be a number in [0, 1]");
    }
  }
  if (fields.contains("camera_control")) {
    if (video.mode != "std" || video.seconds != "5" || video.model != "kling-v1") {
      return invalid("camera_control is only supported in std mode with 5s duration and kling-v1");
    }
    if (fields.contains("image_tail")) {
      return invalid("camera_control cannot be used with image_tail");
    }
  }
  video.external_task_id = string_field(fields, "external_task_id").value_or("");
  video.size = aspect;
  for (const char* name : {"image", "image_tail"}) {
    if (const auto image = string_field(fields, name)) {
      video.images.push_back(*image);
    }
  }
  set_dimensions(video, aspect);
  return std::nullopt;
}

std::string kling_status(Phase phase) {
  switch (phase) {
    case Phase::queued:
      return "submitted";
    case Phase::in_progress:
      return "processing";
    case Phase::completed:
      return "succeed";
    case Phase::failed:
      return "failed";
  }
  return "submitted";
}

std::string result_video_id(const Video& video) {
  return std::to_string(100000000000000000ULL +
                        fnv1a("kling-video:" + video.id) % 900000000000000000ULL);
}

std::string units_deducted(const Video& video) {
  const int units = (video.seconds == "10" ? 2 : 1) * (video.mode == "pro" ? 35 : 10);
  return std::to_string(units / 10) + (units % 10 != 0 ? "." + std::to_string(units % 10) : "");
}

// The task object of Kling's answers. The video URL (on the CDN listener) is valid until
// url_expires_ms.
void write_task(JsonWriter& w, const SimContext& ctx, const Video& video, const VideoState& state,
                int64_t url_expires_ms) {
  w.StartObject();
  put(w, "task_id", video.id);
  put(w, "task_status", kling_status(state.phase));
  put(w, "task_status_msg", state.phase == Phase::failed ? k_policy_message : "");
  w.Key("task_info");
  w.StartObject();
  if (!video.external_task_id.empty()) {
    put(w, "external_task_id", video.external_task_id);
  }
  w.EndObject();
  if (state.phase == Phase::completed) {
    w.Key("task_result");
    w.StartObject();
    w.Key("videos");
    w.StartArray();
    w.StartObject();
    put(w, "id", result_video_id(video));
    put(w, "url", signed_url(ctx, video.id + ".mp4", url_expires_ms));
    put(w, "duration", video.seconds + ".0");
    w.EndObject();
    w.EndArray();
    w.EndObject();
    put(w, "final_unit_deduction", units_deducted(video));
  }
  w.Key("watermark_info");
  w.StartObject();
  w.Key("enabled");
  w.Bool(false);
  w.EndObject();
  w.Key("created_at");
  w.Int64(video.created_ms);
  w.Key("updated_at");
  w.Int64(state.status_update_ms);
  w.EndObject();
}

void start_envelope(JsonWriter& w, SimContext& ctx) {
  w.StartObject();
  w.Key("code");
  w.Int(0);
  put(w, "message", "SUCCEED");
  put(w, "request_id", ctx.store.new_request_id());
  w.Key("data");
}

std::string query_body(SimContext& ctx, const Video& video, const VideoState& state,
                       int64_t url_expires_ms) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  start_envelope(w, ctx);
  write_task(w, ctx, video, state, url_expires_ms);
  w.EndObject();
  return buffer.GetString();
}

std::string created_body(SimContext& ctx, const Video& video) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  start_envelope(w, ctx);
  w.StartObject();
  put(w, "task_id", video.id);
  put(w, "task_status", "submitted");
  w.Key("task_info");
  w.StartObject();
  if (!video.external_task_id.empty()) {
    put(w, "external_task_id", video.external_task_id);
  }
  w.EndObject();
  w.Key("created_at");
  w.Int64(video.created_ms);
  w.Key("updated_at");
  w.Int64(video.created_ms);
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

// new-api's record of the task: what its poller last stored, the URL as it was at completion.
std::string task_dto_body(SimContext& ctx, const Video& video, const VideoState& state,
                          int64_t now) {
  const int64_t url_expires_ms = state.finished_ms + ctx.options.url_ttl_ms;
  TaskRecord record = gateway_record(video, state, now,
                                     {"SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE"},
                                     {"10%", "50%", "100%", "100%"});
  record.platform = "kling";
  record.action = video.family == "image2video" ? "generate" : "textGenerate";
  record.fail_reason = state.phase == Phase::failed ? std::string(k_policy_message) : "";
  record.result_url =
      state.phase == Phase::completed ? signed_url(ctx, video.id + ".mp4", url_expires_ms) : "";
  record.data_json = query_body(ctx, video, state, url_expires_ms);
  return task_record_json(record, false);
}

void handle_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                   bool image2video) {
  const std::string path =
      served_path(ctx, image2video ? "/v1/videos/image2video" : "/v1/videos/text2video");
  Dice dice;
  if (!native_prologue(ctx, req, res, "POST " + path, Step::create, dice)) {
    return;
  }
  Fields fields;
  if (!read_fields(req, fields).empty()) {
    return send_vendor_error(ctx, res, Step::create,
                             {400, "1200", "Invalid request body: expected a JSON object"});
  }
  Video video;
  if (const auto error = read_create(ctx, fields, image2video, video)) {
    return send_vendor_error(ctx, res, Step::create, *error);
  }
  if (!video.external_task_id.empty()) {
    ctx.stats.count_external_task_id(video.external_task_id);
  }
  video.id = ctx.store.new_numeric_id(18);
  const VendorError duplicate =
      invalid("external_task_id already exists: " + video.external_task_id);
  if (const auto created = create_native_task(ctx, res, std::move(video), dice, duplicate)) {
    send_json(res, 200, created_body(ctx, *created));
  }
}

void handle_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                  bool image2video) {
  const std::string family = image2video ? "image2video" : "text2video";
  const std::string id = percent_decode(req.matches[1]);
  // new-api finds a task by id alone; the family in the path does not matter to it.
  const TaskLookup lookup =
      start_task_query(ctx, req, res, "GET " + served_path(ctx, "/v1/videos/" + family + "/{id}"),
                       id, task_dto_body);
  if (lookup.answered) {
    return;
  }
  const int64_t now = now_ms();
  const auto& video = lookup.task;
  if (!video || video->family != family || task_forgotten(ctx, *video, now)) {
    return send_vendor_error(ctx, res, Step::query, {404, "1203", "task not found: " + id});
  }
  send_json(res, 200,
            query_body(ctx, *video, video_state(*video, now), now + ctx.options.url_ttl_ms));
}

std::optional<int> page_param(const httplib::Request& req, const std::string& name, int fallback,
                              int max) {
  if (!req.has_param(name)) {
    return fallback;
  }
  const std::string text = req.get_param_value(name);
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 1 || value > max) {
    return std::nullopt;
  }
  return static_cast<int>(value);
}

void handle_list(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                 bool image2video) {
  const std::string family = image2video ? "image2video" : "text2video";
  if (!start_task_list(ctx, req, res, served_path(ctx, "/v1/videos/" + family))) {
    return;
  }
  const auto page_num = page_param(req, "pageNum", 1, k_max_page_num);
  const auto page_size = page_param(req, "pageSize", 30, k_max_page_size);
  if (!page_num || !page_size) {
    return send_vendor_error(ctx, res, Step::list,
                             invalid("pageNum must be in [1,1000] and pageSize in [1,500]"));
  }
  const int64_t now = now_ms();
  const auto tasks = known_tasks(ctx, now, [&](const Video& video, const VideoState&) {
    return video.family == family;
  });
  const auto page =
      page_range(tasks.size(), static_cast<size_t>(*page_num - 1), static_cast<size_t>(*page_size));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  start_envelope(w, ctx);
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    write_task(w, ctx, tasks[i], video_state(tasks[i], now), now + ctx.options.url_ttl_ms);
  }
  w.EndArray();
  w.EndObject();
  send_json(res, 200, buffer.GetString());
}

}  // namespace

void register_kling_routes(httplib::Server& server, SimContext& ctx) {
  for (const bool image2video : {false, true}) {
    const std::string family = image2video ? "image2video" : "text2video";
    server.Post(served_pattern(ctx, "/v1/videos/" + family),
                [&ctx, image2video](const auto& req, auto& res) {
                  handle_create(ctx, req, res, image2video);
                });
    server.Get(served_pattern(ctx, "/v1/videos/" + family),
               [&ctx, image2video](const auto& req, auto& res) {
                 handle_list(ctx, req, res, image2video);
               });
    server.Get(served_pattern(ctx, "/v1/videos/" + family + "/([^/]+)"),
               [&ctx, image2video](const auto& req, auto& res) {
                 handle_query(ctx, req, res, image2video);
               });
  }
}

}  // namespace sim
