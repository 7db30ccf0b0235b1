// Wan's native routes (--dialect wan, Alibaba DashScope / Model Studio): asynchronous creates
// (X-DashScope-Async: enable) on the video-synthesis route and, for first+last-frame models, the
// image2video route; the task query, which answers UNKNOWN for an id it does not know or has
// forgotten (and, with --unknown-queries, for a task it still lists); the task listing by time
// window, model and status. Directly with a Bearer key, or behind --gateway-prefix in the native or
// taskdto shape.
#include "base64.h"
#include "gateway_json.h"
#include "json_out.h"
#include "native.h"
#include "utc_time.h"

#include <algorithm>
#include <array>
#include <vector>

namespace sim {

namespace {

constexpr std::string_view k_synthesis_path =
    "/api/v1/services/aigc/video-generation/video-synthesis";
constexpr std::string_view k_keyframe_path = "/api/v1/services/aigc/image2video/video-synthesis";
constexpr std::string_view k_inspection_message = "Output data may contain inappropriate content.";
constexpr int k_max_page_size = 100;

enum class WanKind { text, image, keyframes };

// What a model accepts. Text models take `size` ("W*H") of their tiers; image and keyframe models
// take `resolution` ("480P"...), the first listed being the default.
struct WanModel {
  std::string_view name;
  WanKind kind;
  std::vector<int> tiers;  // 480, 720, 1080
  int min_seconds;
  int max_seconds;
  bool five_or_ten = false;  // durations 5 and 10 only
  size_t max_prompt = 800;
};

const std::vector<WanModel>& wan_models() {
  static const std::vector<WanModel> k_models = {
      {"wan2.6-t2v", WanKind::text, {1080, 720}, 2, 15, false, 1500},
      {"wan2.5-t2v-preview", WanKind::text, {1080, 720, 480}, 5, 10, true, 1500},
      {"wan2.2-t2v-plus", WanKind::text, {1080, 480}, 5, 5},
      {"wanx2.1-t2v-turbo", WanKind::text, {720, 480}, 5, 5},
      {"wanx2.1-t2v-plus", WanKind::text, {720}, 5, 5},
      {"wan2.6-i2v", WanKind::image, {1080, 720}, 2, 15, false, 1500},
      {"wan2.6-i2v-flash", WanKind::image, {1080, 720}, 2, 15, false, 1500},
      {"wan2.5-i2v-preview", WanKind::image, {1080, 720, 480}, 5, 10, true, 1500},
      {"wan2.2-i2v-plus", WanKind::image, {1080, 480}, 5, 5},
      {"wan2.2-i2v-flash", WanKind::image, {720, 480}, 5, 5},
      {"wanx2.1-i2v-plus", WanKind::image, {720}, 5, 5},
      {"wanx2.1-i2v-turbo", WanKind::image, {720, 480}, 5, 5},
      {"wan2.2-kf2v-flash", WanKind::keyframes, {720, 480, 1080}, 5, 5},
      {"wanx2.1-kf2v-plus", WanKind::keyframes, {720}, 5, 5},
  };
  return k_models;
}

// The text models' sizes per tier ("W*H"; the first is the default of the tier).
const std::vector<std::pair<int, std::string_view>>& wan_sizes() {
  static const std::vector<std::pair<int, std::string_view>> k_sizes = {
      {1080, "1920*1080"}, {1080, "1080*1920"}, {1080, "1440*1440"}, {1080, "1632*1248"},
      {1080, "1248*1632"}, {720, "1280*720"},   {720, "720*1280"},   {720, "960*960"},
      {720, "1088*832"},   {720, "832*1088"},   {480, "832*480"},    {480, "480*832"},
      {480, "624*624"},
  };
  return k_sizes;
}

VendorError invalid(const std::string& message) {
  return {400, "InvalidParameter", message};
}

// "2025-07-27 21:05:15.212" (UTC), DashScope's time fields.
std::string wan_time(int64_t ms) {
  return format_utc(ms, "%Y-%m-%d %H:%M:%S", true);
}

// "20230420000000" (UTC), the listing's window bounds; nullopt when malformed.
std::optional<int64_t> parse_compact_time(const std::string& text) {
  return text.size() == 14 ? parse_utc(text, "%Y%m%d%H%M%S") : std::nullopt;
}

// A public URL or data:{MIME};base64,{data}.
std::optional<VendorError> check_image(const Fields& fields, const std::string& name) {
  const auto value = string_field(fields, name);
  if (!value || value->empty()) {
    return invalid("Field required: " + name);
  }
  if (value->starts_with("http://") || value->starts_with("https://") ||
      value->starts_with("oss://")) {
    return std::nullopt;
  }
  const auto comma = value->find(";base64,");
  if (value->starts_with("data:image/") && comma != std::string::npos &&
      base64_decode(std::string_view(*value).substr(comma + 8), Base64Alphabet::standard)) {
    return std::nullopt;
  }
  return VendorError{400, "InvalidURL",
                     "The " + name + " is not a valid URL or data:{MIME};base64,{data}."};
}

std::optional<VendorError> check_duration(const Fields& fields, const WanModel& model,
                                          Video& video) {
  const auto it = fields.find("parameters.duration");
  if (it != fields.end() && it->second.kind != FieldKind::integer) {
    return invalid("parameters.duration must be an integer");
  }
  const int seconds = it == fields.end() ? 5 : std::atoi(it->second.text.c_str());
  const bool allowed = model.five_or_ten
                           ? (seconds == 5 || seconds == 10)
                           : (seconds >= model.min_seconds && seconds <= model.max_seconds);
  if (!allowed) {
    return invalid("duration " + std::to_string(seconds) + " is not supported by " +
                   std::string(model.name));
  }
  video.seconds = std::to_string(seconds);
  return std::nullopt;
}

// Sets width and height from `size` (text models) or `resolution` (image and keyframe models).
std::optional<VendorError> check_output_size(const Fields& fields, const WanModel& model,
                                             Video& video) {
  if (model.kind == WanKind::text) {
    const std::string fallback(
        std::find_if(wan_sizes().begin(), wan_sizes().end(), [&](const auto& size) {
          return size.first == model.tiers.front();
        })->second);
    const std::string size = string_field(fields, "parameters.size").value_or(fallback);
    const auto known = std::find_if(wan_sizes().begin(), wan_sizes().end(),
                                    [&](const auto& s) { return s.second == size; });
    if (known == wan_sizes().end() ||
        std::find(model.tiers.begin(), model.tiers.end(), known->first) == model.tiers.end()) {
      return invalid("The size is invalid for " + std::string(model.name) + ": " + size +
                     " (use W*H, e.g. 1280*720)");
    }
    video.width = std::atoi(size.c_str());
    video.height = std::atoi(size.substr(size.find('*') + 1).c_str());
    video.size = size;
  } else {
    const std::string resolution = string_field(fields, "parameters.resolution")
                                       .value_or(std::to_string(model.tiers.front()) + "P");
    const int tier = std::atoi(resolution.c_str());
    if (resolution != std::to_string(tier) + "P" ||
        std::find(model.tiers.begin(), model.tiers.end(), tier) == model.tiers.end()) {
      return invalid("The resolution is invalid for " + std::string(model.name) + ": " +
                     resolution);
    }
    video.height = tier;
    video.width = tier == 480 ? 832 : tier * 16 / 9;
    video.size = resolution;
  }
  video.orientation = video.width >= video.height ? "landscape" : "portrait";
  return std::nullopt;
}

std::optional<VendorError> check_inputs(const Fields& fields, const WanModel& model, Video& video) {
  const auto prompt = string_field(fields, "input.prompt");
  if (fields.contains("input.prompt") && !prompt) {
    return invalid("input.prompt must be a string");
  }
  if (model.kind == WanKind::text && prompt.value_or("").empty()) {
    return invalid("Field required: input.prompt");
  }
  if (prompt && prompt->size() > model.max_prompt) {
    return invalid("input.prompt is longer than " + std::to_string(model.max_prompt) +
                   " characters");
  }
  video.prompt = prompt.value_or("");
  const std::vector<std::string> images =
      model.kind == WanKind::image       ? std::vector<std::string>{"input.img_url"}
      : model.kind == WanKind::keyframes ? std::vector<std::string>{"input.first_frame_url"}
                                         : std::vector<std::string>{};
  for (const auto& name : images) {
    if (auto error = check_image(fields, name)) {
      return error;
    }
    video.images.push_back(*string_field(fields, name));
  }
  if (model.kind == WanKind::keyframes && fields.contains("input.last_frame_url")) {
    if (auto error = check_image(fields, "input.last_frame_url")) {
      return error;
    }
    video.images.push_back(*string_field(fields, "input.last_frame_url"));
  }
  for (const char* name :
       {"parameters.prompt_extend", "parameters.watermark", "parameters.audio"}) {
    if (fields.contains(name) && fields.at(name).kind != FieldKind::boolean) {
      return invalid(std::string(name) + " must be a boolean");
    }
  }
  return std::nullopt;
}

// Fills `video` from a create body sent to `keyframe_route` or not; the refusal otherwise.
std::optional<VendorError> read_create(const Fields& fields, bool keyframe_route, Video& video) {
  if (!fields.contains("model")) {
    return VendorError{400, "BadRequest.EmptyModel",
                       "Required parameter \"model\" missing from request."};
  }
  const auto name = string_field(fields, "model").value_or("");
  const auto model = std::find_if(wan_models().begin(), wan_models().end(),
                                  [&](const auto& m) { return m.name == name; });
  if (model == wan_models().end() || (model->kind == WanKind::keyframes) != keyframe_route) {
    return invalid("Model not exist.");
  }
  if (!fields.contains("input") || fields.at("input").kind != FieldKind::object) {
    return VendorError{400, "BadRequest.EmptyInput",
                       "Required parameter \"input\" missing from request."};
  }
  video.model = name;
  video.family = model->kind == WanKind::text ? "t2v"
                                              : (model->kind == WanKind::image ? "i2v" : "kf2v");
  for (auto check : {check_inputs(fields, *model, video), check_duration(fields, *model, video),
                     check_output_size(fields, *model, video)}) {
    if (check) {
      return check;
    }
  }
  return std::nullopt;
}

std::string wan_status(Phase phase) {
  static const std::array<const char*, 4> k_status = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED"};
  return k_status[static_cast<size_t>(phase)];
}

// Alibaba OSS links are issued once, at completion: a later query answers the same URL.
std::string video_url(const SimContext& ctx, const Video& video, const VideoState& state) {
  return oss_signed_url(ctx, video.id + ".mp4", (state.finished_ms + ctx.options.url_ttl_ms) / 1000,
                        false);
}

void write_output(JsonWriter& w, const SimContext& ctx, const Video& video,
                  const VideoState& state) {
  w.Key("output");
  w.StartObject();
  put(w, "task_id", video.id);
  put(w, "task_status", wan_status(state.phase));
  put(w, "submit_time", wan_time(video.created_ms));
  if (state.phase != Phase::queued) {
    put(w, "scheduled_time", wan_time(state.started_ms));
  }
  if (is_terminal(state.phase)) {
    put(w, "end_time", wan_time(state.finished_ms));
  }
  if (state.phase == Phase::completed) {
    put(w, "video_url", video_url(ctx, video, state));
    put(w, "orig_prompt", video.prompt);
    put(w, "actual_prompt", video.prompt);
  }
  if (state.phase == Phase::failed) {
    put(w, "code", "DataInspectionFailed");
    put(w, "message", k_inspection_message);
  }
  w.EndObject();
}

std::string query_body(SimContext& ctx, const Video& video, const VideoState& state) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "request_id", ctx.store.new_request_id());
  write_output(w, ctx, video, state);
  if (state.phase == Phase::completed) {
    w.Key("usage");
    w.StartObject();
    w.Key("video_duration");
    w.Int(std::atoi(video.seconds.c_str()));
    w.Key("video_count");
    w.Int(1);
    w.Key("SR");
    w.Int(std::min(video.width, video.height));
    w.EndObject();
  }
  w.EndObject();
  return buffer.GetString();
}

// {request_id, output:{task_id, task_status}}: a create's answer (PENDING), or an unknown id's
// (UNKNOWN).
std::string status_body(SimContext& ctx, const std::string& id, std::string_view status) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "request_id", ctx.store.new_request_id());
  w.Key("output");
  w.StartObject();
  put(w, "task_id", id);
  put(w, "task_status", status);
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

// new-api's record (its ali adaptor: PENDING is QUEUED), the URL as stored at completion.
std::string task_dto_body(SimContext& ctx, const Video& video, const VideoState& state,
                          int64_t now) {
  TaskRecord record = gateway_record(video, state, now,
                                     {"QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE"},
                                     {"10%", "50%", "100%", "100%"});
  record.platform = "ali";
  record.action = video.family == "t2v" ? "textGenerate" : "generate";
  record.fail_reason = state.phase == Phase::failed ? std::string(k_inspection_message) : "";
  record.result_url = state.phase == Phase::completed ? video_url(ctx, video, state) : "";
  record.data_json = query_body(ctx, video, state);
  return task_record_json(record, false);
}

void handle_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                   bool keyframe_route) {
  const std::string path = served_path(ctx, keyframe_route ? k_keyframe_path : k_synthesis_path);
  Dice dice;
  if (!native_prologue(ctx, req, res, "POST " + path, Step::create, dice)) {
    return;
  }
  // new-api sets the header itself; a client talking to DashScope (or a pass-through) must.
  if (ctx.options.gateway_shape != GatewayShape::taskdto &&
      req.get_header_value("X-DashScope-Async") != "enable") {
    return send_vendor_error(ctx, res, Step::create,
                             {403, "AccessDenied",
                              "current user api does not support synchronous calls"});
  }
  Fields fields;
  if (!read_fields(req, fields).empty()) {
    return send_vendor_error(ctx, res, Step::create,
                             invalid("The request body is not a valid JSON object."));
  }
  Video video;
  if (const auto error = read_create(fields, keyframe_route, video)) {
    return send_vendor_error(ctx, res, Step::create, *error);
  }
  video.id = ctx.store.new_request_id();
  if (const auto created = create_native_task(ctx, res, std::move(video), dice)) {
    send_json(res, 200, status_body(ctx, created->id, "PENDING"));
  }
}

void handle_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string id = percent_decode(req.matches[1]);
  const TaskLookup lookup = start_task_query(ctx, req, res,
                                             "GET " + served_path(ctx, "/api/v1/tasks/{id}"), id,
                                             task_dto_body);
  if (lookup.answered) {
    return;
  }
  const auto& video = lookup.task;
  const int64_t now = now_ms();
  if (!video || task_forgotten(ctx, *video, now)) {
    return send_json(res, 200, status_body(ctx, id, "UNKNOWN"));
  }
  if (ctx.store.count_query(video->id) <= ctx.options.unknown_queries) {
    ctx.stats.count_fault("unknown_query");
    return send_json(res, 200, status_body(ctx, id, "UNKNOWN"));
  }
  send_json(res, 200, query_body(ctx, *video, video_state(*video, now)));
}

struct ListFilter {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string model;
  std::string status;
  int page_no = 1;
  int page_size = 10;
};

std::optional<ListFilter> read_list_filter(const httplib::Request& req, int64_t now) {
  ListFilter filter;
  filter.from_ms = now - 24 * 3600 * 1000;
  filter.to_ms = now;
  for (auto [name, out] :
       {std::pair{"start_time", &filter.from_ms}, std::pair{"end_time", &filter.to_ms}}) {
    if (req.has_param(name)) {
      const auto value = parse_compact_time(req.get_param_value(name));
      if (!value) {
        return std::nullopt;
      }
      *out = *value;
    }
  }
  filter.model = req.get_param_value("model_name");
  filter.status = req.get_param_value("status");
  filter.page_no = req.has_param("page_no") ? std::atoi(req.get_param_value("page_no").c_str()) : 1;
  filter.page_size =
      req.has_param("page_size") ? std::atoi(req.get_param_value("page_size").c_str()) : 10;
  if (filter.page_no < 1 || filter.page_size < 1 || filter.page_size > k_max_page_size) {
    return std::nullopt;
  }
  return filter;
}

void write_list_item(JsonWriter& w, SimContext& ctx, const Video& video, const VideoState& state) {
  w.StartObject();
  put(w, "task_id", video.id);
  put(w, "status", wan_status(state.phase));
  put(w, "model_name", video.model);
  put(w, "gmt_create", wan_time(video.created_ms));
  put(w, "start_time", state.phase == Phase::queued ? "" : wan_time(state.started_ms));
  put(w, "end_time", is_terminal(state.phase) ? wan_time(state.finished_ms) : "");
  put(w, "request_id", ctx.store.new_request_id());
  put(w, "region", "ap-southeast-1");
  w.EndObject();
}

void handle_list(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!start_task_list(ctx, req, res, served_path(ctx, "/api/v1/tasks"))) {
    return;
  }
  const int64_t now = now_ms();
  const auto filter = read_list_filter(req, now);
  if (!filter) {
    return send_vendor_error(
        ctx, res, Step::list,
        invalid("start_time/end_time are yyyyMMddHHmmss, page_no >= 1, page_size 1-100"));
  }
  const auto tasks = known_tasks(ctx, now, [&](const Video& video, const VideoState& state) {
    return video.created_ms >= filter->from_ms && video.created_ms <= filter->to_ms + 999 &&
           (filter->model.empty() || video.model == filter->model) &&
           (filter->status.empty() || wan_status(state.phase) == filter->status);
  });
  const auto size = static_cast<size_t>(filter->page_size);
  const auto page = page_range(tasks.size(), static_cast<size_t>(filter->page_no - 1), size);
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "request_id", ctx.store.new_request_id());
  w.Key("data");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    write_list_item(w, ctx, tasks[i], video_state(tasks[i], now));
  }
  w.EndArray();
  w.Key("total");
  w.Int64(static_cast<int64_t>(tasks.size()));
  w.Key("total_page");
  w.Int64(static_cast<int64_t>((tasks.size() + size - 1) / size));
  w.Key("page_no");
  w.Int(filter->page_no);
  w.Key("page_size");
  w.Int(filter->page_size);
  w.EndObject();
  send_json(res, 200, buffer.GetString());
}

}  // namespace

void register_wan_routes(httplib::Server& server, SimContext& ctx) {
  server.Post(served_pattern(ctx, std::string(k_synthesis_path)),
              [&ctx](const auto& req, auto& res) { handle_create(ctx, req, res, false); });
  server.Post(served_pattern(ctx, std::string(k_keyframe_path)),
              [&ctx](const auto& req, auto& res) { handle_create(ctx, req, res, true); });
  server.Get(served_pattern(ctx, "/api/v1/tasks"),
             [&ctx](const auto& req, auto& res) { handle_list(ctx, req, res); });
  server.Get(served_pattern(ctx, "/api/v1/tasks/([^/]+)"),
             [&ctx](const auto& req, auto& res) { handle_query(ctx, req, res); });
}

}  // namespace sim
