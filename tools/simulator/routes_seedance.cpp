// Doubao Seedance's native routes (--dialect seedance, Volcengine Ark / BytePlus ModelArk): the
// content[] create, the task query, the filtered listing and DELETE (cancel while queued, else
// delete the record). At most --run-slots tasks (10) generate at once, the rest stay queued; a task
// unfinished after execution_expires_after expires; task data lives 24 h. Directly with a Bearer
// key, or behind --gateway-prefix in the native or taskdto shape.
#include "base64.h"
#include "gateway_json.h"
#include "json_out.h"
#include "native.h"
#include "prng.h"
#include "utc_time.h"

#include <algorithm>
#include <array>
#include <vector>

namespace sim {

namespace {

constexpr std::string_view k_tasks_path = "/api/v3/contents/generations/tasks";
constexpr size_t k_max_prompt = 2000;
constexpr int64_t k_default_expiry_s = 172800;
constexpr int k_max_page_size = 500;
constexpr int k_fps = 30;  // what the simulator's MP4s carry
constexpr std::string_view k_output_sensitive = "OutputVideoSensitiveContentDetected";

struct SeedanceModel {
  std::string_view name;
  bool text;        // runs on a prompt alone
  bool last_frame;  // first+last frame
  bool reference;   // 1-4 reference images
  int min_seconds;
  int max_seconds;
  bool model_picks;  // duration -1: the model picks
  std::string_view default_resolution;
  bool audio;        // generate_audio
  bool height_1088;  // 1080p frames are 1088 high (1.0-pro)
};

const std::vector<SeedanceModel>& seedance_models() {
  static const std::vector<SeedanceModel> k_models = {
      {"doubao-seedance-1-5-pro-251215", true, true, false, 4, 12, false, "720p", true, false},
      {"doubao-seedance-1-0-pro-250528", true, true, false, 2, 12, false, "1080p", false, true},
      {"doubao-seedance-1-0-pro-fast-251015", true, false, false, 2, 12, false, "1080p", false,
       true},
      {"doubao-seedance-1-0-lite-t2v-250428", true, false, false, 2, 12, false, "720p", false,
       false},
      {"doubao-seedance-1-0-lite-i2v-250428", false, true, true, 2, 12, false, "720p", false,
       false},
      {"doubao-seedance-2-0-260128", true, true, true, 4, 15, true, "720p", true, false},
      {"doubao-seedance-2-0-fast-260128", true, true, true, 4, 15, true, "720p", true, false},
  };
  return k_models;
}

VendorError invalid(const std::string& param, const std::string& why) {
  return {400, "InvalidParameter",
          "The parameter `" + param + "` specified in the request is not valid: " + why};
}

struct Images {
  size_t first = 0;
  size_t last = 0;
  size_t reference = 0;
};

std::optional<VendorError> check_image_url(const Fields& fields, const std::string& item,
                                           Video& video) {
  const auto url = string_field(fields, item + ".image_url.url");
  const auto comma = url ? url->find(";base64,") : std::string::npos;
  const bool data =
      url && url->starts_with("data:image/") && comma != std::string::npos &&
      base64_decode(std::string_view(*url).substr(comma + 8), Base64Alphabet::standard);
  if (!url || (!url->starts_with("http://") && !url->starts_with("https://") && !data)) {
    return invalid("content.image_url.url", "a URL or data:image/<format>;base64,<data>");
  }
  video.images.push_back(*url);
  return std::nullopt;
}

// Reads content[]: one text at most, images by role (one image without a role is the first frame).
std::optional<VendorError> read_content(const Fields& fields, Video& video, Images& images) {
  if (!fields.contains("content") || fields.at("content").kind != FieldKind::array ||
      !fields.contains("content.0")) {
    return VendorError{400, "MissingParameter",
                       "The request failed because it is missing one or multiple required "
                       "parameters: content"};
  }
  size_t unnamed = 0;
  for (size_t i = 0; fields.contains("content." + std::to_string(i)); ++i) {
    const std::string item = "content." + std::to_string(i);
    const std::string type = string_field(fields, item + ".type").value_or("");
    if (type == "text") {
      const auto text = string_field(fields, item + ".text");
      if (!text || !video.prompt.empty() || text->size() > k_max_prompt) {
        return invalid("content.text", "one text of at most 2000 characters");
      }
      video.prompt = *text;
    } else if (type == "image_url") {
      if (auto error = check_image_url(fields, item, video)) {
        return error;
      }
      const std::string role = string_field(fields, item + ".role").value_or("");
      (role == "first_frame"       ? images.first
       : role == "last_frame"      ? images.last
       : role == "reference_image" ? images.reference
                                   : unnamed) += 1;
      if (!role.empty() && role != "first_frame" && role != "last_frame" &&
          role != "reference_image") {
        return invalid("content.role", "first_frame, last_frame or reference_image");
      }
    } else {
      return invalid("content.type", "text or image_url");
    }
  }
  if (unnamed > 1 || (unnamed == 1 && images.first + images.last + images.reference > 0)) {
    return invalid("content.role", "give every image a role when there is more than one");
  }
  images.first += unnamed;
  return std::nullopt;
}

std::optional<VendorError> check_images(const SeedanceModel& model, const Images& images,
                                        const Video& video) {
  const size_t frames = images.first + images.last;
  if (images.first > 1 || images.last > 1 || (images.last == 1 && images.first == 0)) {
    return invalid("content.role", "at most one first_frame, and a last_frame only with it");
  }
  if (images.reference > 0 && (frames > 0 || !model.reference || images.reference > 4)) {
    return invalid("content.role", "1-4 reference_image, alone, on a model that takes references");
  }
  if (images.last > 0 && !model.last_frame) {
    return invalid("content.role", std::string(model.name) + " takes no last_frame");
  }
  if (frames + images.reference == 0 && !model.text) {
    return invalid("content", std::string(model.name) + " needs an image");
  }
  if (frames + images.reference == 0 && video.prompt.empty()) {
    return invalid("content.text", "a text is required without images");
  }
  if (model.text && !model.last_frame && !model.reference && frames + images.reference > 0 &&
      model.name.find("t2v") != std::string_view::npos) {
    return invalid("content", std::string(model.name) + " takes no images");
  }
  return std::nullopt;
}

int round_up_16(int value) {
  return (value + 15) / 16 * 16;
}

std::optional<VendorError> check_output(const Fields& fields, const SeedanceModel& model,
                                        const Images& images, Video& video) {
  const std::string resolution =
      string_field(fields, "resolution").value_or(std::string(model.default_resolution));
  const bool text_only = images.first + images.reference == 0;
  const bool reference = images.reference > 0;
  if ((resolution != "480p" && resolution != "720p" && resolution != "1080p") ||
      (reference && resolution == "1080p" && model.name.find("lite") != std::string_view::npos)) {
    return invalid("resolution", "480p, 720p or 1080p (not 1080p for lite references)");
  }
  const std::string ratio =
      string_field(fields, "ratio").value_or(text_only || reference ? "16:9" : "adaptive");
  static constexpr std::array<std::string_view, 7> k_ratios = {"16:9", "4:3",  "1:1",     "3:4",
                                                               "9:16", "21:9", "adaptive"};
  const bool adaptive_refused = ratio == "adaptive" && (text_only || reference) && !model.audio;
  if (std::find(k_ratios.begin(), k_ratios.end(), ratio) == k_ratios.end() || adaptive_refused) {
    return invalid("ratio", ratio + " is not supported here");
  }
  const auto duration = fields.find("duration");
  if (duration != fields.end() && duration->second.kind != FieldKind::integer) {
    return invalid("duration", "an integer");
  }
  const int seconds = duration == fields.end() ? 5 : std::atoi(duration->second.text.c_str());
  if (!(seconds == -1 && model.model_picks) &&
      (seconds < model.min_seconds || seconds > model.max_seconds)) {
    return invalid("duration", std::to_string(model.min_seconds) + "-" +
                                   std::to_string(model.max_seconds) + " for " +
                                   std::string(model.name));
  }
  video.seconds = std::to_string(seconds == -1 ? 5 : seconds);
  // adaptive follows the image; the simulator's frame is then 16:9.
  const std::string shape = ratio == "adaptive" ? "16:9" : ratio;
  const int across = std::atoi(shape.c_str());
  const int down = std::atoi(shape.substr(shape.find(':') + 1).c_str());
  const int short_side = std::atoi(resolution.c_str());
  const int fixed = model.height_1088 ? round_up_16(short_side) : short_side;
  const int other = round_up_16(short_side * std::max(across, down) / std::min(across, down));
  video.width = across >= down ? other : fixed;
  video.height = across >= down ? fixed : other;
  video.size = resolution;
  video.aspect_ratio = ratio;
  video.orientation = video.width >= video.height ? "landscape" : "portrait";
  return std::nullopt;
}

std::optional<VendorError> check_options(const Fields& fields, const SeedanceModel& model,
                                         Video& video) {
  for (const char* name :
       {"camera_fixed", "watermark", "generate_audio", "return_last_frame", "draft"}) {
    if (fields.contains(name) && fields.at(name).kind != FieldKind::boolean) {
      return invalid(name, "a boolean");
    }
  }
  if (fields.contains("generate_audio") && fields.at("generate_audio").text == "true" &&
      !model.audio) {
    return invalid("generate_audio", std::string(model.name) + " makes no sound");
  }
  const std::string tier = string_field(fields, "service_tier").value_or("default");
  if (tier != "default" && tier != "flex") {
    return invalid("service_tier", "default or flex");
  }
  const auto expiry = fields.find("execution_expires_after");
  const int64_t expiry_s = expiry == fields.end() ? k_default_expiry_s
                                                  : std::atoll(expiry->second.text.c_str());
  if (expiry != fields.end() &&
      (expiry->second.kind != FieldKind::integer || expiry_s < 3600 || expiry_s > 259200)) {
    return invalid("execution_expires_after", "an integer from 3600 to 259200");
  }
  video.expire_at_ms = expiry_s * 1000;  // made absolute when the task is created
  const auto seed = fields.find("seed");
  if (seed != fields.end() && seed->second.kind != FieldKind::integer) {
    return invalid("seed", "an integer from -1 to 2147483647");
  }
  video.seed = seed == fields.end() ? -1 : std::atoll(seed->second.text.c_str());
  return std::nullopt;
}

std::optional<VendorError> read_create(const Fields& fields, Video& video) {
  const auto name = string_field(fields, "model");
  if (!name) {
    return VendorError{
        400, "MissingParameter",
        "The request failed because it is missing one or multiple required parameters: model"};
  }
  const auto model = std::find_if(seedance_models().begin(), seedance_models().end(),
                                  [&](const auto& m) { return m.name == *name; });
  if (model == seedance_models().end()) {
    return VendorError{404, "InvalidEndpointOrModel.NotFound",
                       "The model or endpoint " + *name +
                           " does not exist or you do not have access to it."};
  }
  video.model = *name;
  Images images;
  if (auto error = read_content(fields, video, images)) {
    return error;
  }
  video.family = images.first + images.reference == 0 ? "t2v" : "i2v";
  for (auto check :
       {check_images(*model, images, video), check_output(fields, *model, images, video),
        check_options(fields, *model, video)}) {
    if (check) {
      return check;
    }
  }
  return std::nullopt;
}

// "cgt-20250331175019-68d9t": the creation time, then five base-36 characters.
std::string task_id(SimContext& ctx) {
  const std::string stamp = format_utc(now_ms(), "%Y%m%d%H%M%S", false);
  const std::string digits = ctx.store.new_numeric_id(12);
  uint64_t value = std::stoull(digits);
  std::string suffix;
  for (int i = 0; i < 5; ++i) {
    suffix.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[value % 36]);
    value /= 36;
  }
  return "cgt-" + std::string(stamp) + "-" + suffix;
}

bool expired(const Video& video, const VideoState& state, int64_t now) {
  return !is_terminal(state.phase) && video.expire_at_ms > 0 && now >= video.expire_at_ms;
}

std::string seedance_status(const Video& video, const VideoState& state, int64_t now) {
  if (video.cancelled_ms > 0 && state.phase == Phase::failed) {
    return "cancelled";
  }
  if (expired(video, state, now)) {
    return "expired";
  }
  static const std::array<const char*, 4> k_status = {"queued", "running", "succeeded", "failed"};
  return k_status[static_cast<size_t>(state.phase)];
}

// The task object of the query and of list items (`failure_reason` there, `error` here).
void write_task(JsonWriter& w, const SimContext& ctx, const Video& video, const VideoState& state,
                int64_t now, bool list_item) {
  const std::string status = seedance_status(video, state, now);
  w.StartObject();
  put(w, "id", video.id);
  put(w, "model", video.model);
  put(w, "status", status);
  if (status == "succeeded") {
    // Task data, the link included, is kept as it was at completion.
    const int64_t expires_ms = state.finished_ms + ctx.options.url_ttl_ms;
    w.Key("content");
    w.StartObject();
    put(w, "video_url", signed_url(ctx, video.id + ".mp4", expires_ms));
    put(w, "last_frame_url", signed_url(ctx, video.id + ".webp", expires_ms));
    w.EndObject();
    const int64_t tokens = static_cast<int64_t>(video.width) * video.height * k_fps *
                           std::atoi(video.seconds.c_str()) / 1024;
    w.Key("usage");
    w.StartObject();
    w.Key("completion_tokens");
    w.Int64(tokens);
    w.Key("total_tokens");
    w.Int64(tokens);
    w.EndObject();
  }
  if (status == "failed") {
    w.Key(list_item ? "failure_reason" : "error");
    w.StartObject();
    put(w, "code", k_output_sensitive);
    put(w, "message",
        "The request failed because the output video may contain sensitive information.");
    w.EndObject();
  }
  w.Key("created_at");
  w.Int64(video.created_ms / 1000);
  w.Key("updated_at");
  w.Int64(std::max(state.status_update_ms, video.created_ms) / 1000);
  w.Key("seed");
  w.Int64(video.seed >= 0 ? video.seed : static_cast<int64_t>(fnv1a(video.id) % 2147483647));
  put(w, "resolution", video.size);
  put(w, "ratio", video.aspect_ratio);
  w.Key("duration");
  w.Int(std::atoi(video.seconds.c_str()));
  w.Key("framespersecond");
  w.Int(k_fps);
  put(w, "service_tier", "default");
  w.Key("execution_expires_after");
  w.Int64((video.expire_at_ms - video.created_ms) / 1000);
  w.EndObject();
}

std::string query_body(const SimContext& ctx, const Video& video, const VideoState& state,
                       int64_t now) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_task(w, ctx, video, state, now, false);
  return buffer.GetString();
}

// new-api's doubao record: it knows queued, running, succeeded and failed; anything else it keeps
// treating as in progress (so an expired task never ends there).
std::string task_dto_body(SimContext& ctx, const Video& video, const VideoState& state,
                          int64_t now) {
  TaskRecord record = gateway_record(video, state, now,
                                     {"QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE"},
                                     {"10%", "50%", "100%", "100%"});
  if (expired(video, state, now)) {
    record.status = "IN_PROGRESS";
    record.progress = "50%";
  }
  record.platform = "doubao";
  record.action = video.family == "t2v" ? "textGenerate" : "generate";
  record.fail_reason = state.phase == Phase::failed ? std::string(k_output_sensitive) : "";
  if (state.phase == Phase::completed) {
    record.result_url =
        signed_url(ctx, video.id + ".mp4", state.finished_ms + ctx.options.url_ttl_ms);
  }
  record.data_json = query_body(ctx, video, state, now);
  return task_record_json(record, false);
}

VendorError not_found(const std::string& id) {
  return {404, "ResourceNotFound", "The specified task " + id + " is not found."};
}

void handle_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!native_prologue(ctx, req, res, "POST " + served_path(ctx, k_tasks_path), Step::create,
                       dice)) {
    return;
  }
  Fields fields;
  if (!read_fields(req, fields).empty()) {
    return send_vendor_error(ctx, res, Step::create, invalid("body", "a JSON object"));
  }
  Video video;
  if (const auto error = read_create(fields, video)) {
    return send_vendor_error(ctx, res, Step::create, *error);
  }
  video.id = task_id(ctx);
  const int64_t expiry_ms = ctx.options.execution_expiry_ms > 0 ? ctx.options.execution_expiry_ms
                                                                : video.expire_at_ms;
  video.expire_at_ms = now_ms() + expiry_ms;
  if (const auto created = create_native_task(ctx, res, std::move(video), dice)) {
    send_json(res, 200, "{\"id\":\"" + created->id + "\"}");
  }
}

void handle_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string id = percent_decode(req.matches[1]);
  const TaskLookup lookup =
      start_task_query(ctx, req, res,
                       "GET " + served_path(ctx, std::string(k_tasks_path) + "/{id}"), id,
                       task_dto_body);
  if (lookup.answered) {
    return;
  }
  const int64_t now = now_ms();
  const auto& video = lookup.task;
  if (!video || task_forgotten(ctx, *video, now)) {
    return send_vendor_error(ctx, res, Step::query, not_found(id));
  }
  send_json(res, 200, query_body(ctx, *video, video_state(*video, now), now));
}

void handle_delete(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string path = served_path(ctx, std::string(k_tasks_path) + "/{id}");
  Dice dice;
  if (!native_prologue(ctx, req, res, "DELETE " + path, Step::query, dice)) {
    return;
  }
  if (ctx.options.gateway_shape == GatewayShape::taskdto) {
    return send_gateway_error(res, 404, "Invalid URL (DELETE " + path + ")");
  }
  const std::string id = percent_decode(req.matches[1]);
  const int64_t now = now_ms();
  const auto video = ctx.store.find(id);
  if (!video || task_forgotten(ctx, *video, now)) {
    return send_vendor_error(ctx, res, Step::query, not_found(id));
  }
  const VideoState state = video_state(*video, now);
  if (state.phase == Phase::in_progress && !expired(*video, state, now)) {
    return send_vendor_error(ctx, res, Step::query,
                             invalid("id", "a running task can be neither cancelled nor deleted"));
  }
  // A queued task is cancelled (its record stays); any other record is deleted.
  if (!ctx.store.cancel_if_queued(id, now)) {
    ctx.store.remove(id);
  }
  send_json(res, 200, "{}");
}

std::vector<std::string> param_values(const httplib::Request& req, const std::string& name) {
  std::vector<std::string> out;
  for (size_t i = 0; i < req.get_param_value_count(name); ++i) {
    out.push_back(req.get_param_value(name, i));
  }
  return out;
}

void handle_list(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!start_task_list(ctx, req, res, served_path(ctx, k_tasks_path))) {
    return;
  }
  const int page_num =
      req.has_param("page_num") ? std::atoi(req.get_param_value("page_num").c_str()) : 1;
  const int page_size =
      req.has_param("page_size") ? std::atoi(req.get_param_value("page_size").c_str()) : 10;
  if (page_num < 1 || page_size < 1 || page_size > k_max_page_size) {
    return send_vendor_error(ctx, res, Step::list,
                             invalid("page_num/page_size", "page_num >= 1, page_size 1-500"));
  }
  const auto ids = param_values(req, "filter.task_ids");
  const std::string status = req.get_param_value("filter.status");
  const std::string model = req.get_param_value("filter.model");
  const int64_t now = now_ms();
  const auto tasks = known_tasks(ctx, now, [&](const Video& video, const VideoState& state) {
    return (status.empty() || seedance_status(video, state, now) == status) &&
           (model.empty() || video.model == model) &&
           (ids.empty() || std::find(ids.begin(), ids.end(), video.id) != ids.end()) &&
           now - video.created_ms <= 7LL * 24 * 3600 * 1000;
  });
  const auto page =
      page_range(tasks.size(), static_cast<size_t>(page_num - 1), static_cast<size_t>(page_size));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("items");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    write_task(w, ctx, tasks[i], video_state(tasks[i], now), now, true);
  }
  w.EndArray();
  w.Key("total");
  w.Int64(static_cast<int64_t>(tasks.size()));
  w.EndObject();
  send_json(res, 200, buffer.GetString());
}

}  // namespace

void register_seedance_routes(httplib::Server& server, SimContext& ctx) {
  const std::string tasks(k_tasks_path);
  server.Post(served_pattern(ctx, tasks),
              [&ctx](const auto& req, auto& res) { handle_create(ctx, req, res); });
  server.Get(served_pattern(ctx, tasks),
             [&ctx](const auto& req, auto& res) { handle_list(ctx, req, res); });
  server.Get(served_pattern(ctx, tasks + "/([^/]+)"),
             [&ctx](const auto& req, auto& res) { handle_query(ctx, req, res); });
  server.Delete(served_pattern(ctx, tasks + "/([^/]+)"),
                [&ctx](const auto& req, auto& res) { handle_delete(ctx, req, res); });
}

}  // namespace sim
