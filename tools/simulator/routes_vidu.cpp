// Vidu's native routes (--dialect vidu): `Authorization: Token`, four create routes chosen by the
// images (none, one, first+last, references), the creations query, the task listing and the
// credits page. At most --run-slots tasks (5 per organisation) generate at once; the rest stay
// `queueing`. Directly, or behind --gateway-prefix with a Bearer key (native or taskdto shape).
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

constexpr size_t k_max_prompt = 5000;
constexpr size_t k_max_payload = 1048576;
constexpr int k_max_page_size = 100;
constexpr int64_t k_list_window_ms = 7LL * 24 * 3600 * 1000;
constexpr std::string_view k_policy_code = "CreationPolicyViolation";

enum class Route { text, image, start_end, reference };

struct RouteInfo {
  Route route;
  std::string_view path;
  std::string_view action;  // new-api's name of the action
  size_t min_images;
  size_t max_images;
};

constexpr std::array<RouteInfo, 4> k_routes = {{
    {Route::text, "text2video", "textGenerate", 0, 0},
    {Route::image, "img2video", "generate", 1, 1},
    {Route::start_end, "start-end2video", "firstTailGenerate", 2, 2},
    {Route::reference, "reference2video", "referenceGenerate", 1, 7},
}};

struct ViduModel {
  std::string_view name;
  bool text;       // text2video
  bool image;      // img2video and start-end2video
  bool reference;  // reference2video
  int min_seconds;
  int max_seconds;
  bool four_or_eight;                         // vidu2.0 / 1.5: 4 or 8 seconds
  std::vector<std::string_view> resolutions;  // the first is the default
  bool wide_ratios;                           // 3:4 and 4:3
};

const std::vector<ViduModel>& vidu_models() {
  static const std::vector<ViduModel> k_models = {
      {"viduq3-turbo", true, false, false, 1, 16, false, {"720p", "540p", "1080p"}, true},
      {"viduq3-pro", true, true, false, 1, 16, false, {"720p", "540p", "1080p"}, true},
      {"viduq2", true, false, true, 1, 10, false, {"720p", "540p", "1080p"}, true},
      {"viduq2-pro", false, true, false, 1, 10, false, {"720p", "540p", "1080p"}, true},
      {"viduq2-turbo", false, true, false, 1, 10, false, {"720p", "540p", "1080p"}, true},
      {"viduq2-pro-fast", false, true, false, 1, 10, false, {"720p", "540p", "1080p"}, true},
      {"viduq1", true, true, true, 5, 5, false, {"1080p"}, false},
      {"viduq1-classic", false, true, false, 5, 5, false, {"1080p"}, false},
      {"vidu2.0", false, true, true, 4, 8, true, {"720p", "360p", "1080p"}, false},
      {"vidu1.5", true, false, false, 4, 8, true, {"720p", "360p", "1080p"}, false},
  };
  return k_models;
}

VendorError field_error(std::string_view reason, const std::string& message) {
  return {400, std::string(reason), message};
}

bool model_serves(const ViduModel& model, Route route) {
  switch (route) {
    case Route::text:
      return model.text;
    case Route::image:
    case Route::start_end:
      return model.image;
    case Route::reference:
      return model.reference;
  }
  return false;
}

// "2025-01-01T15:41:31.968000Z"
std::string rfc3339(int64_t ms) {
  return format_utc(ms, "%Y-%m-%dT%H:%M:%S", true) + "000Z";
}

std::optional<int64_t> parse_rfc3339(const std::string& text) {
  return parse_utc(text, "%Y-%m-%dT%H:%M:%S");
}

// Every image: a URL, or Base64 with its content-type prefix.
std::optional<VendorError> check_images(const Fields& fields, const RouteInfo& info, Video& video) {
  const auto images = fields.find("images");
  if (images != fields.end() && images->second.kind != FieldKind::array) {
    return field_error("FieldInvalid", "images must be an array of strings");
  }
  if (info.max_images == 0) {
    return images == fields.end()
               ? std::nullopt
               : std::optional(
                     field_error("FieldUnwanted", "images is not accepted by text2video"));
  }
  for (size_t i = 0; fields.contains("images." + std::to_string(i)); ++i) {
    const auto image = string_field(fields, "images." + std::to_string(i));
    const bool url = image && (image->starts_with("http://") || image->starts_with("https://"));
    const auto comma = image ? image->find(";base64,") : std::string::npos;
    const bool data =
        image && image->starts_with("data:image/") && comma != std::string::npos &&
        base64_decode(std::string_view(*image).substr(comma + 8), Base64Alphabet::standard);
    if (!url && !data) {
      return field_error("ImageFormatInvalid",
                         "images[" + std::to_string(i) +
                             "] must be a URL or data:image/...;base64,... (with the prefix)");
    }
    video.images.push_back(*image);
  }
  if (video.images.size() < info.min_images || video.images.size() > info.max_images) {
    return field_error("FieldItemCountOutOfRange", std::string(info.path) + " takes " +
                                                       std::to_string(info.min_images) + "-" +
                                                       std::to_string(info.max_images) + " images");
  }
  return std::nullopt;
}

std::optional<VendorError> check_duration_and_size(const Fields& fields, const ViduModel& model,
                                                   const RouteInfo& info, Video& video) {
  const auto duration = fields.find("duration");
  if (duration != fields.end() && duration->second.kind != FieldKind::integer) {
    return field_error("FieldInvalid", "duration must be an integer");
  }
  const int fallback = model.four_or_eight ? 4
                                           : std::clamp(5, model.min_seconds, model.max_seconds);
  const int seconds = duration == fields.end() ? fallback
                                               : std::atoi(duration->second.text.c_str());
  const bool allowed = model.four_or_eight
                           ? (seconds == 4 || seconds == 8)
                           : (seconds >= model.min_seconds && seconds <= model.max_seconds);
  if (!allowed) {
    return field_error("FieldInvalid", "duration " + std::to_string(seconds) +
                                           " is not supported by " + std::string(model.name));
  }
  video.seconds = std::to_string(seconds);
  const std::string resolution =
      string_field(fields, "resolution").value_or(std::string(model.resolutions.front()));
  const bool known = std::find(model.resolutions.begin(), model.resolutions.end(), resolution) !=
                     model.resolutions.end();
  if (!known || (model.four_or_eight && seconds == 8 && resolution != "720p")) {
    return field_error("FieldInvalid", "resolution " + resolution + " is not supported by " +
                                           std::string(model.name) + " for " + video.seconds +
                                           " s");
  }
  const bool image_led = info.route == Route::image || info.route == Route::start_end;
  const std::string ratio = image_led ? "16:9"
                                      : string_field(fields, "aspect_ratio").value_or("16:9");
  const bool wide = ratio == "3:4" || ratio == "4:3";
  if (ratio != "16:9" && ratio != "9:16" && ratio != "1:1" && !(wide && model.wide_ratios)) {
    return field_error("FieldInvalid",
                       "aspect_ratio " + ratio + " is not supported by " + std::string(model.name));
  }
  // The image decides the frame of image-led videos; the file says 16:9 then.
  const int short_side = std::atoi(resolution.c_str());
  const int long_side = ratio == "1:1" ? short_side
                                       : (wide ? short_side * 4 / 3 : short_side * 16 / 9);
  const bool portrait = ratio == "9:16" || ratio == "3:4";
  video.width = portrait ? short_side : long_side;
  video.height = portrait ? long_side : short_side;
  video.size = resolution;
  video.aspect_ratio = ratio;
  video.orientation = portrait ? "portrait" : "landscape";
  return std::nullopt;
}

std::optional<VendorError> check_options(const Fields& fields, Video& video) {
  const auto payload = fields.find("payload");
  if (payload != fields.end() &&
      (payload->second.kind != FieldKind::string || payload->second.text.size() > k_max_payload)) {
    return field_error("FieldInvalid", "payload must be a string of at most 1048576 characters");
  }
  video.payload = payload == fields.end() ? "" : payload->second.text;
  const std::string amplitude = string_field(fields, "movement_amplitude").value_or("auto");
  if (amplitude != "auto" && amplitude != "small" && amplitude != "medium" &&
      amplitude != "large") {
    return field_error("FieldInvalid", "movement_amplitude must be auto, small, medium or large");
  }
  for (const char* name : {"bgm", "off_peak"}) {
    if (fields.contains(name) && fields.at(name).kind != FieldKind::boolean) {
      return field_error("FieldInvalid", std::string(name) + " must be a boolean");
    }
  }
  if (fields.contains("seed") && fields.at("seed").kind != FieldKind::integer) {
    return field_error("FieldInvalid", "seed must be an integer");
  }
  return std::nullopt;
}

std::optional<VendorError> read_create(const Fields& fields, const RouteInfo& info, Video& video) {
  const auto name = string_field(fields, "model");
  if (!name) {
    return field_error("FieldLacking", "model is required");
  }
  const auto model = std::find_if(vidu_models().begin(), vidu_models().end(),
                                  [&](const auto& m) { return m.name == *name; });
  if (model == vidu_models().end() || !model_serves(*model, info.route)) {
    return field_error("FieldInvalid",
                       "model " + *name + " is not available on " + std::string(info.path));
  }
  video.model = *name;
  video.family = std::string(info.path);
  const auto prompt = string_field(fields, "prompt");
  if (fields.contains("prompt") && (!prompt || prompt->size() > k_max_prompt)) {
    return field_error("FieldInvalid", "prompt must be a string of at most 5000 characters");
  }
  if ((info.route == Route::text || info.route == Route::reference) &&
      prompt.value_or("").empty()) {
    return field_error("FieldLacking", "prompt is required");
  }
  video.prompt = prompt.value_or("");
  for (auto check :
       {check_images(fields, info, video), check_duration_and_size(fields, *model, info, video),
        check_options(fields, video)}) {
    if (check) {
      return check;
    }
  }
  return std::nullopt;
}

void write_images(JsonWriter& w, const Video& video) {
  w.Key("images");
  w.StartArray();
  for (const auto& image : video.images) {
    w.String(image.c_str(), static_cast<rapidjson::SizeType>(image.size()));
  }
  w.EndArray();
}

int credits(const Video& video) {
  const int per_second = video.size == "1080p" ? 4 : (video.size == "720p" ? 2 : 1);
  return std::atoi(video.seconds.c_str()) * per_second;
}

std::string vidu_state(const Video& video, const VideoState& state, int64_t now) {
  switch (state.phase) {
    case Phase::queued:
      return now - video.created_ms < video.gen_ms / 20 ? "created" : "queueing";
    case Phase::in_progress:
      return "processing";
    case Phase::completed:
      return "success";
    case Phase::failed:
      return "failed";
  }
  return "created";
}

void write_creations(JsonWriter& w, const SimContext& ctx, const Video& video,
                     const VideoState& state, int64_t url_expires_ms) {
  w.Key("creations");
  w.StartArray();
  if (state.phase == Phase::completed) {
    w.StartObject();
    put(w, "id", video.id + "01");
    put(w, "url", signed_url(ctx, video.id + ".mp4", url_expires_ms));
    put(w, "cover_url", signed_url(ctx, video.id + ".webp", url_expires_ms));
    w.Key("video");
    w.StartObject();
    w.Key("duration");
    w.Double(std::atof(video.seconds.c_str()));
    w.Key("fps");
    w.Int(30);
    w.Key("resolution");
    w.StartObject();
    w.Key("width");
    w.Int(video.width);
    w.Key("height");
    w.Int(video.height);
    w.EndObject();
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
}

std::string query_body(const SimContext& ctx, const Video& video, const VideoState& state,
                       int64_t now, int64_t url_expires_ms) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "id", video.id);
  put(w, "state", vidu_state(video, state, now));
  put(w, "err_code", state.phase == Phase::failed ? k_policy_code : "");
  w.Key("credits");
  w.Int(credits(video));
  put(w, "payload", video.payload);
  w.Key("bgm");
  w.Bool(false);
  w.Key("off_peak");
  w.Bool(false);
  write_creations(w, ctx, video, state, url_expires_ms);
  w.EndObject();
  return buffer.GetString();
}

std::string created_body(const Video& video, const Fields& fields) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "task_id", video.id);
  put(w, "state", "created");
  put(w, "model", video.model);
  put(w, "prompt", video.prompt);
  write_images(w, video);
  w.Key("duration");
  w.Int(std::atoi(video.seconds.c_str()));
  w.Key("seed");
  w.Int64(fields.contains("seed") ? std::atoll(fields.at("seed").text.c_str()) : 0);
  put(w, "aspect_ratio", video.aspect_ratio);
  put(w, "resolution", video.size);
  put(w, "movement_amplitude", string_field(fields, "movement_amplitude").value_or("auto"));
  put(w, "payload", video.payload);
  w.Key("credits");
  w.Int(credits(video));
  w.Key("off_peak");
  w.Bool(fields.contains("off_peak") && fields.at("off_peak").text == "true");
  w.Key("bgm");
  w.Bool(fields.contains("bgm") && fields.at("bgm").text == "true");
  put(w, "created_at", rfc3339(video.created_ms));
  w.EndObject();
  return buffer.GetString();
}

// new-api's record: created and queueing are SUBMITTED; the URL as its poller stored it.
std::string task_dto_body(SimContext& ctx, const Video& video, const VideoState& state,
                          int64_t now) {
  const int64_t url_expires_ms = state.finished_ms + ctx.options.url_ttl_ms;
  TaskRecord record = gateway_record(video, state, now,
                                     {"SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE"},
                                     {"10%", "50%", "100%", "100%"});
  record.platform = "vidu";
  const auto route = std::find_if(k_routes.begin(), k_routes.end(),
                                  [&](const auto& r) { return r.path == video.family; });
  record.action = std::string(route->action);
  record.fail_reason = state.phase == Phase::failed ? std::string(k_policy_code) : "";
  record.result_url =
      state.phase == Phase::completed ? signed_url(ctx, video.id + ".mp4", url_expires_ms) : "";
  record.data_json = query_body(ctx, video, state, now, url_expires_ms);
  return task_record_json(record, false);
}

void handle_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                   const RouteInfo& info) {
  Dice dice;
  if (!native_prologue(ctx, req, res,
                       "POST " + served_path(ctx, "/ent/v2/" + std::string(info.path)),
                       Step::create, dice)) {
    return;
  }
  Fields fields;
  if (!read_fields(req, fields).empty()) {
    return send_vendor_error(ctx, res, Step::create,
                             field_error("BadRequest", "the body must be a JSON object"));
  }
  Video video;
  if (const auto error = read_create(fields, info, video)) {
    return send_vendor_error(ctx, res, Step::create, *error);
  }
  video.id = ctx.store.new_numeric_id(18);
  if (const auto created = create_native_task(ctx, res, std::move(video), dice)) {
    send_json(res, 200, created_body(*created, fields));
  }
}

void handle_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string id = percent_decode(req.matches[1]);
  const TaskLookup lookup =
      start_task_query(ctx, req, res, "GET " + served_path(ctx, "/ent/v2/tasks/{id}/creations"), id,
                       task_dto_body);
  if (lookup.answered) {
    return;
  }
  const int64_t now = now_ms();
  const auto& video = lookup.task;
  if (!video || task_forgotten(ctx, *video, now)) {
    return send_vendor_error(ctx, res, Step::query, {404, "TaskNotFound", "task not found: " + id});
  }
  send_json(res, 200,
            query_body(ctx, *video, video_state(*video, now), now, now + ctx.options.url_ttl_ms));
}

std::vector<std::string> param_values(const httplib::Request& req, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& key : {name, name + "[]"}) {
    for (size_t i = 0; i < req.get_param_value_count(key); ++i) {
      out.push_back(req.get_param_value(key, i));
    }
  }
  return out;
}

struct ListQuery {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::vector<std::string> states;
  std::vector<std::string> task_ids;
  std::vector<std::string>
      versions;  // model_versions: "2.0", "q1", "q2-pro"... (the model without "vidu")
  int page = 0;
  int page_size = 20;
};

std::optional<ListQuery> read_list_query(const httplib::Request& req, int64_t now) {
  ListQuery query;
  query.from_ms = now - k_list_window_ms;
  query.to_ms = now;
  for (auto [name, out] :
       {std::pair{"created_at.from", &query.from_ms}, std::pair{"created_at.to", &query.to_ms}}) {
    if (req.has_param(name)) {
      const auto value = parse_rfc3339(req.get_param_value(name));
      if (!value) {
        return std::nullopt;
      }
      *out = *value;
    }
  }
  query.states = param_values(req, "states");
  query.task_ids = param_values(req, "task_ids");
  query.versions = param_values(req, "model_versions");
  const std::string token = req.get_param_value("pager.page_token");
  query.page = std::atoi((token.empty() ? req.get_param_value("paper.page") : token).c_str());
  if (req.has_param("paper.pagesz")) {
    query.page_size = std::atoi(req.get_param_value("paper.pagesz").c_str());
  }
  if (query.page < 0 || query.page_size < 1 || query.page_size > k_max_page_size) {
    return std::nullopt;
  }
  return query;
}

bool listed(const ListQuery& query, const Video& video, const VideoState& state, int64_t now) {
  const auto any = [](const std::vector<std::string>& wanted, const std::string& value) {
    return wanted.empty() || std::find(wanted.begin(), wanted.end(), value) != wanted.end();
  };
  const std::string version = video.model.starts_with("vidu") ? video.model.substr(4) : video.model;
  return video.created_ms >= query.from_ms && video.created_ms <= query.to_ms + 999 &&
         any(query.states, vidu_state(video, state, now)) && any(query.task_ids, video.id) &&
         any(query.versions, version);
}

// A list item: the task without its payload (the vendor does not say it lists it).
void write_list_item(JsonWriter& w, const SimContext& ctx, const Video& video,
                     const VideoState& state, int64_t now) {
  w.StartObject();
  put(w, "id", video.id);
  put(w, "state", vidu_state(video, state, now));
  put(w, "err_code", state.phase == Phase::failed ? k_policy_code : "");
  put(w, "model", video.model);
  put(w, "prompt", video.prompt);
  write_images(w, video);
  w.Key("duration");
  w.Int(std::atoi(video.seconds.c_str()));
  put(w, "resolution", video.size);
  put(w, "aspect_ratio", video.aspect_ratio);
  write_creations(w, ctx, video, state, now + ctx.options.url_ttl_ms);
  put(w, "created_at", rfc3339(video.created_ms));
  w.EndObject();
}

void handle_list(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (!start_task_list(ctx, req, res, served_path(ctx, "/ent/v2/tasks"))) {
    return;
  }
  const int64_t now = now_ms();
  const auto query = read_list_query(req, now);
  if (!query) {
    return send_vendor_error(
        ctx, res, Step::list,
        field_error("FieldInvalid",
                    "created_at.* are RFC 3339, paper.page >= 0, paper.pagesz 1-100"));
  }
  const auto tasks = known_tasks(ctx, now, [&](const Video& video, const VideoState& state) {
    return listed(*query, video, state, now);
  });
  const auto page = page_range(tasks.size(), static_cast<size_t>(query->page),
                               static_cast<size_t>(query->page_size));
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "next_page_token", page.end < tasks.size() ? std::to_string(query->page + 1) : "");
  w.Key("tasks");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    write_list_item(w, ctx, tasks[i], video_state(tasks[i], now), now);
  }
  w.EndArray();
  w.EndObject();
  send_json(res, 200, buffer.GetString());
}

void handle_credits(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!native_prologue(ctx, req, res, "GET " + served_path(ctx, "/ent/v2/credits"), Step::list,
                       dice) ||
      apply_drop(ctx, dice, res)) {
    return;
  }
  const int64_t now = now_ms();
  int64_t running = 0;
  int64_t waiting = 0;
  for (const auto& video : ctx.store.all()) {
    const Phase phase = video_state(video, now).phase;
    running += phase == Phase::in_progress ? 1 : 0;
    waiting += phase == Phase::queued ? 1 : 0;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("remains");
  w.StartArray();
  w.StartObject();
  put(w, "type", "subscription");
  w.Key("credit_remain");
  w.Int64(100000);
  w.Key("concurrency_limit");
  w.Int64(ctx.options.run_slots);
  w.Key("current_concurrency");
  w.Int64(running);
  w.Key("queue_count");
  w.Int64(waiting);
  w.EndObject();
  w.EndArray();
  w.Key("packages");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  send_json(res, 200, buffer.GetString());
}

}  // namespace

void register_vidu_routes(httplib::Server& server, SimContext& ctx) {
  for (const auto& info : k_routes) {
    server.Post(served_pattern(ctx, "/ent/v2/" + std::string(info.path)),
                [&ctx, &info](const auto& req, auto& res) { handle_create(ctx, req, res, info); });
  }
  server.Get(served_pattern(ctx, "/ent/v2/tasks/([^/]+)/creations"),
             [&ctx](const auto& req, auto& res) { handle_query(ctx, req, res); });
  server.Get(served_pattern(ctx, "/ent/v2/tasks"),
             [&ctx](const auto& req, auto& res) { handle_list(ctx, req, res); });
  server.Get(served_pattern(ctx, "/ent/v2/credits"),
             [&ctx](const auto& req, auto& res) { handle_credits(ctx, req, res); });
}

}  // namespace sim
