// MiniMax's v1 video routes (--dialect minimax): one create route, the query by ?task_id=, and
// files/retrieve turning a file_id into an expiring download URL. Every answer is HTTP 200; errors
// live in base_resp. Directly with a Bearer key, or behind --gateway-prefix in the native,
// taskdto (new-api) or yunwu (merged record) shape.
#include "base64.h"
#include "gateway_json.h"
#include "native.h"

#include "json_out.h"

#include <algorithm>
#include <array>
#include <vector>

namespace sim {

namespace {

constexpr size_t k_max_prompt = 2000;
constexpr int k_output_sensitive = 1027;
constexpr std::string_view k_output_sensitive_message = "output new_sensitive";

// What a model accepts; the first resolution is its default.
struct ModelRules {
  std::string_view name;
  std::vector<std::string_view> resolutions;
  bool ten_seconds = false;  // duration 10 exists (at 512P and 768P only)
  bool text = true;          // may run without a first frame
  bool image = true;         // takes first_frame_image
  bool last_frame = false;   // takes last_frame_image
  bool subject = false;      // needs subject_reference
};

const std::array<ModelRules, 9>& model_rules() {
  static const std::array<ModelRules, 9> k_models = {{
      {"MiniMax-Hailuo-2.3", {"768P", "1080P"}, true, true, true, false, false},
      {"MiniMax-Hailuo-2.3-Fast", {"768P", "1080P"}, true, false, true, false, false},
      {"MiniMax-Hailuo-02", {"768P", "512P", "1080P"}, true, true, true, true, false},
      {"T2V-01-Director", {"720P"}, false, true, false, false, false},
      {"T2V-01", {"720P"}, false, true, false, false, false},
      {"I2V-01-Director", {"720P"}, false, false, true, false, false},
      {"I2V-01-live", {"720P"}, false, false, true, false, false},
      {"I2V-01", {"720P"}, false, false, true, false, false},
      {"S2V-01", {"720P"}, false, true, false, false, true},
  }};
  return k_models;
}

void write_base_resp(JsonWriter& w, int code, std::string_view message) {
  w.Key("base_resp");
  w.StartObject();
  w.Key("status_code");
  w.Int(code);
  put(w, "status_msg", message);
  w.EndObject();
}

VendorError invalid(const std::string& message) {
  return {200, "2013", "invalid params, " + message};
}

// A public URL, or a data URL of a JPEG, PNG or WebP.
std::optional<VendorError> check_image(const Fields& fields, const std::string& name) {
  const auto value = string_field(fields, name);
  if (!value || value->empty()) {
    return invalid(name + " must be an image URL or a data URL");
  }
  if (value->starts_with("http://") || value->starts_with("https://")) {
    return std::nullopt;
  }
  for (const char* type : {"jpeg", "jpg", "png", "webp"}) {
    const std::string prefix = "data:image/" + std::string(type) + ";base64,";
    if (value->starts_with(prefix)) {
      if (!base64_decode(std::string_view(*value).substr(prefix.size()),
                         Base64Alphabet::standard)) {
        return invalid(name + " holds invalid base64 data");
      }
      return std::nullopt;
    }
  }
  return invalid(name + " must be a public URL or a data URL (data:image/jpeg;base64,...)");
}

void set_dimensions(Video& video, const std::string& resolution) {
  const int height = std::atoi(resolution.c_str());
  video.height = height;
  video.width = height == 768 ? 1366 : (height == 512 ? 912 : height * 16 / 9);
  video.size = resolution;
  video.orientation = "landscape";
}

std::optional<VendorError> check_flags(const Fields& fields) {
  for (const char* name : {"prompt_optimizer", "fast_pretreatment", "aigc_watermark"}) {
    if (fields.contains(name) && fields.at(name).kind != FieldKind::boolean) {
      return invalid(std::string(name) + " must be a boolean");
    }
  }
  return std::nullopt;
}

std::optional<VendorError> check_frames(const Fields& fields, const ModelRules& model,
                                        const std::string& resolution) {
  const bool first = fields.contains("first_frame_image");
  if (first && !model.image) {
    return invalid(std::string(model.name) + " does not take first_frame_image");
  }
  if (!first && !model.text) {
    return invalid(std::string(model.name) + " needs first_frame_image");
  }
  if (model.subject && !(fields.contains("subject_reference") &&
                         fields.at("subject_reference").kind == FieldKind::array)) {
    return invalid(std::string(model.name) + " needs subject_reference");
  }
  if (fields.contains("last_frame_image") &&
      (!model.last_frame || !first || resolution == "512P")) {
    return invalid(
        "last_frame_image needs first_frame_image, MiniMax-Hailuo-02 and a resolution above 512P");
  }
  for (const char* name : {"first_frame_image", "last_frame_image"}) {
    if (fields.contains(name)) {
      if (auto error = check_image(fields, name)) {
        return error;
      }
    }
  }
  return std::nullopt;
}

// Fills `video` from a create body; the base_resp refusal when the body is not acceptable.
std::optional<VendorError> read_create(const Fields& fields, Video& video) {
  const auto model_name = string_field(fields, "model");
  const auto model =
      std::find_if(model_rules().begin(), model_rules().end(), [&](const ModelRules& rules) {
        return model_name && rules.name == *model_name;
      });
  if (model == model_rules().end()) {
    return invalid(model_name ? "unknown model: " + *model_name : "model is required");
  }
  video.model = *model_name;
  const auto prompt = string_field(fields, "prompt");
  if (fields.contains("prompt") && (!prompt || prompt->size() > k_max_prompt)) {
    return invalid("prompt must be a string of at most 2000 characters");
  }
  if (prompt.value_or("").empty() && !fields.contains("first_frame_image")) {
    return invalid("prompt is required");
  }
  video.prompt = prompt.value_or("");
  const auto duration = fields.find("duration");
  if (duration != fields.end() && duration->second.kind != FieldKind::integer) {
    return invalid("duration must be an integer");
  }
  video.seconds = duration == fields.end() ? "6" : duration->second.text;
  if (fields.contains("resolution") && !string_field(fields, "resolution")) {
    return invalid("resolution must be a string");
  }
  const std::string resolution =
      string_field(fields, "resolution").value_or(std::string(model->resolutions.front()));
  if (std::find(model->resolutions.begin(), model->resolutions.end(), resolution) ==
      model->resolutions.end()) {
    return invalid("resolution " + resolution + " is not supported by " + video.model);
  }
  const bool ten = video.seconds == "10" && model->ten_seconds && resolution != "1080P";
  if (video.seconds != "6" && !ten) {
    return invalid("duration " + video.seconds + " is not supported by " + video.model + " at " +
                   resolution);
  }
  if (auto error = check_frames(fields, *model, resolution)) {
    return error;
  }
  if (auto error = check_flags(fields)) {
    return error;
  }
  for (const char* name : {"first_frame_image", "last_frame_image"}) {
    if (const auto image = string_field(fields, name)) {
      video.images.push_back(*image);
    }
  }
  set_dimensions(video, resolution);
  return std::nullopt;
}

std::string minimax_status(const Video& video, const VideoState& state, int64_t now) {
  switch (state.phase) {
    case Phase::queued:
      return now - video.created_ms < video.gen_ms / 20 ? "Preparing" : "Queueing";
    case Phase::in_progress:
      return "Processing";
    case Phase::completed:
      return "Success";
    case Phase::failed:
      return "Fail";
  }
  return "Preparing";
}

// The query answer's members (inside an object the caller opened).
void write_query_members(JsonWriter& w, const Video& video, const VideoState& state, int64_t now) {
  put(w, "task_id", video.id);
  put(w, "status", minimax_status(video, state, now));
  if (state.phase == Phase::completed) {
    put(w, "file_id", video.file_id);
    w.Key("video_width");
    w.Int(video.width);
    w.Key("video_height");
    w.Int(video.height);
  }
  if (state.phase == Phase::failed) {
    write_base_resp(w, k_output_sensitive, k_output_sensitive_message);
  } else {
    write_base_resp(w, 0, "success");
  }
}

std::string query_body(const Video& video, const VideoState& state, int64_t now) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_query_members(w, video, state, now);
  w.EndObject();
  return buffer.GetString();
}

// files/retrieve's `file` object; its URLs are valid until expires_s.
void write_file(JsonWriter& w, const SimContext& ctx, const Video& video, const VideoState& state,
                int64_t expires_s) {
  w.Key("file");
  w.StartObject();
  w.Key("file_id");
  w.Int64(std::stoll(video.file_id));
  w.Key("bytes");
  w.Int(0);
  w.Key("created_at");
  w.Int64(state.finished_ms / 1000);
  put(w, "filename", "output.mp4");
  put(w, "purpose", "video_generation");
  put(w, "download_url", oss_signed_url(ctx, video.id + ".mp4", expires_s, false));
  put(w, "backup_download_url", oss_signed_url(ctx, video.id + ".mp4", expires_s, true));
  w.EndObject();
}

int64_t url_expiry_s(const SimContext& ctx, int64_t from_ms) {
  return (from_ms + ctx.options.url_ttl_ms) / 1000;
}

// new-api's record: progress 30 % / 50 % while running, the URL its poller retrieved at completion.
std::string task_dto_body(SimContext& ctx, const Video& video, const VideoState& state,
                          int64_t now) {
  TaskRecord record = gateway_record(video, state, now,
                                     {"IN_PROGRESS", "IN_PROGRESS", "SUCCESS", "FAILURE"},
                                     {"30%", "50%", "100%", "100%"});
  record.platform = "hailuo";
  record.action = "generate";
  record.fail_reason = state.phase == Phase::failed ? std::string(k_output_sensitive_message) : "";
  if (state.phase == Phase::completed) {
    record.result_url =
        oss_signed_url(ctx, video.id + ".mp4", url_expiry_s(ctx, state.finished_ms), false);
  }
  record.data_json = query_body(video, state, now);
  return task_record_json(record, false);
}

// yunwu's record: the file_id in fail_reason on success, the retrieve answer merged into data.
std::string yunwu_body(const SimContext& ctx, const Video& video, const VideoState& state,
                       int64_t now) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  if (state.phase == Phase::completed) {
    write_file(w, ctx, video, state, url_expiry_s(ctx, now));
  }
  write_query_members(w, video, state, now);
  w.EndObject();
  TaskRecord record = gateway_record(video, state, now,
                                     {"SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE"},
                                     {"10%", "50%", "100%", "100%"});
  record.task_id = video.id;
  record.action = "video_generation";
  record.fail_reason = state.phase == Phase::completed ? video.file_id
                       : state.phase == Phase::failed  ? std::string(k_output_sensitive_message)
                                                       : "";
  record.start_s = 0;
  record.data_json = buffer.GetString();
  return task_record_json(record, true);
}

void handle_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!native_prologue(ctx, req, res, "POST " + served_path(ctx, "/v1/video_generation"),
                       Step::create, dice)) {
    return;
  }
  Fields fields;
  Video video;
  std::optional<VendorError> error;
  if (!read_fields(req, fields).empty()) {
    error = invalid("the body must be a JSON object");
  }
  error = error ? error : read_create(fields, video);
  if (error) {
    return send_vendor_error(ctx, res, Step::create, *error);
  }
  video.id = ctx.store.new_numeric_id(15);
  video.file_id = ctx.store.new_numeric_id(15);
  const auto created = create_native_task(ctx, res, std::move(video), dice);
  if (!created) {
    return;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "task_id", created->id);
  write_base_resp(w, 0, "success");
  w.EndObject();
  send_json(res, 200, buffer.GetString());
}

void handle_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.get_param_value("task_id");
  const TaskLookup lookup =
      start_task_query(ctx, req, res, "GET " + served_path(ctx, "/v1/query/video_generation"), id,
                       task_dto_body);
  if (lookup.answered) {
    return;
  }
  const auto& video = lookup.task;
  const int64_t now = now_ms();
  if (id.empty()) {
    return send_vendor_error(ctx, res, Step::query, invalid("task_id is required"));
  }
  if (!video || task_forgotten(ctx, *video, now)) {
    return send_vendor_error(ctx, res, Step::query, invalid("task not found: " + id));
  }
  const VideoState state = video_state(*video, now);
  if (ctx.options.gateway_shape == GatewayShape::yunwu) {
    return send_json(res, 200, yunwu_body(ctx, *video, state, now));
  }
  if (state.phase == Phase::failed) {
    ctx.stats.count_vendor_code(std::to_string(k_output_sensitive));
  }
  send_json(res, 200, query_body(*video, state, now));
}

void handle_retrieve(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string path = served_path(ctx, "/v1/files/retrieve");
  Dice dice;
  if (!native_prologue(ctx, req, res, "GET " + path, Step::retrieve, dice) ||
      apply_drop(ctx, dice, res)) {
    return;
  }
  if (ctx.options.gateway_shape == GatewayShape::taskdto) {
    return send_gateway_error(res, 404, "Invalid URL (GET " + path + ")");
  }
  ctx.stats.count_file_retrieve();
  const std::string file_id = req.get_param_value("file_id");
  const auto video = file_id.empty() ? std::nullopt : ctx.store.find_by_file_id(file_id);
  const int64_t now = now_ms();
  const bool ready = video && video_state(*video, now).phase == Phase::completed;
  if (!ready || task_forgotten(ctx, *video, now)) {
    return send_vendor_error(ctx, res, Step::retrieve,
                             invalid(file_id.empty() ? "file_id is required"
                                                     : "file not found: " + file_id));
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  write_file(w, ctx, *video, video_state(*video, now), url_expiry_s(ctx, now));
  write_base_resp(w, 0, "success");
  w.EndObject();
  send_json(res, 200, buffer.GetString());
}

}  // namespace

void register_minimax_routes(httplib::Server& server, SimContext& ctx) {
  server.Post(served_pattern(ctx, "/v1/video_generation"),
              [&ctx](const auto& req, auto& res) { handle_create(ctx, req, res); });
  server.Get(served_pattern(ctx, "/v1/query/video_generation"),
             [&ctx](const auto& req, auto& res) { handle_query(ctx, req, res); });
  server.Get(served_pattern(ctx, "/v1/files/retrieve"),
             [&ctx](const auto& req, auto& res) { handle_retrieve(ctx, req, res); });
}

}  // namespace sim
