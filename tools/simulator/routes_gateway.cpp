// The gateway "unified" format (/v1/video/create, /v1/video/query) and the newer OpenAI routes
// that build on an existing video (characters, edits, extensions).
#include "routes.h"

#include <cstdlib>

namespace sim {

namespace {

// Pixel sizes per gateway size/orientation; "small" matches the seed (352x640 portrait).
void set_gateway_dimensions(NewVideo& spec) {
  const bool large = spec.size == "large";
  const int narrow = large ? 1080 : 352;
  const int wide = large ? 1920 : 640;
  const bool portrait = spec.orientation == "portrait";
  spec.width = portrait ? narrow : wide;
  spec.height = portrait ? wide : narrow;
}

// duration may arrive as a number or, from multipart-minded clients, as a numeric string.
std::optional<int> duration_field(const Fields& fields) {
  const auto it = fields.find("duration");
  if (it == fields.end()) {
    return 10;
  }
  if (it->second.kind != FieldKind::integer && it->second.kind != FieldKind::string) {
    return std::nullopt;
  }
  char* end = nullptr;
  const long value = std::strtol(it->second.text.c_str(), &end, 10);
  return (end && *end == '\0' && !it->second.text.empty()) ? std::optional(static_cast<int>(value))
                                                           : std::nullopt;
}

std::string check_gateway_create(const Fields& fields, NewVideo& spec) {
  spec.model = string_field(fields, "model").value_or("sora-2");
  spec.prompt = string_field(fields, "prompt").value_or("");
  spec.orientation = string_field(fields, "orientation").value_or("portrait");
  spec.size = string_field(fields, "size").value_or("small");
  const bool pro = is_pro_model(spec.model);
  const auto duration = duration_field(fields);
  if (spec.model.empty()) {
    return "model is required";
  }
  if (spec.prompt.empty()) {
    return "prompt is required";
  }
  if (spec.orientation != "portrait" && spec.orientation != "landscape") {
    return "orientation must be portrait or landscape";
  }
  if (spec.size != "small" && !(spec.size == "large" && pro)) {
    return pro ? "size must be small or large" : "size must be small (large needs sora-2-pro)";
  }
  if (!duration || (*duration != 10 && *duration != 15 && !(*duration == 25 && pro))) {
    return pro ? "duration must be 10, 15 or 25"
               : "duration must be 10 or 15 (25 needs sora-2-pro)";
  }
  spec.seconds = std::to_string(*duration);
  for (int i = 0; const auto image = string_field(fields, "images." + std::to_string(i)); ++i) {
    spec.images.push_back(*image);
  }
  return {};
}

void handle_unified_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "POST /v1/video/create", dice)) {
    return;
  }
  Fields fields;
  NewVideo spec;
  std::string error = read_fields(req, fields);
  error = error.empty() ? check_gateway_create(fields, spec) : error;
  if (!error.empty()) {
    return send_error(res, 400, error, "invalid_request_error", "invalid_value");
  }
  set_gateway_dimensions(spec);
  spec.task_id = true;
  finish_create(ctx, res, std::move(spec), dice, CreateAnswer::task_created);
}

void handle_unified_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "GET /v1/video/query", dice)) {
    return;
  }
  ctx.stats.count_query();
  if (apply_drop(ctx, dice, res)) {
    return;
  }
  const std::string id = req.get_param_value("id");
  if (id.empty()) {
    return send_error(res, 400, "id is required", "invalid_request_error",
                      "missing_required_parameter", "id");
  }
  const auto video = ctx.store.find(id);
  if (!video) {
    return send_error(res, 404, "task not found: " + id, "invalid_request_error", "task_not_found");
  }
  send_json(res, 200, query_answer(ctx, *video, true));
}

void handle_character_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "POST /v1/videos/characters", dice)) {
    return;
  }
  if (!req.is_multipart_form_data() || !req.has_file("video")) {
    return send_error(res, 400, "Missing required parameter: 'video'.", "invalid_request_error",
                      "missing_required_parameter", "video");
  }
  const std::string name = req.has_file("name") ? req.get_file_value("name").content
                                                : std::string();
  if (name.empty() || name.size() > 80) {
    return send_error(res, 400, "Invalid 'name': expected a string of 1 to 80 characters.",
                      "invalid_request_error", "invalid_value", "name");
  }
  Character character{ctx.store.new_character_id(), name, now_ms() / 1000};
  ctx.store.add_character(character);
  ctx.stats.count_character(name);
  send_json(res, 200, character_json(character));
}

void handle_character_get(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "GET /v1/videos/characters/{id}", dice) ||
      apply_drop(ctx, dice, res)) {
    return;
  }
  const auto character = ctx.store.find_character(percent_decode(req.matches[1]));
  if (!character) {
    return send_error(res, 404, "Character not found.", "invalid_request_error", {},
                      "character_id");
  }
  send_json(res, 200, character_json(*character));
}

// Edits and extensions: {video:{id}|<file>, prompt[, seconds]}. A referenced video must exist
// and be completed; an uploaded file simply starts a fresh video.
void handle_derived(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                    bool extension) {
  Dice dice;
  if (!api_prologue(ctx, req, res,
                    extension ? "POST /v1/videos/extensions" : "POST /v1/videos/edits", dice)) {
    return;
  }
  Fields fields;
  if (const auto error = read_fields(req, fields); !error.empty()) {
    return send_error(res, 400, error);
  }
  NewVideo spec;
  spec.prompt = string_field(fields, "prompt").value_or("");
  const auto seconds = string_field(fields, "seconds");
  if (spec.prompt.empty()) {
    return send_error(res, 400, "Missing required parameter: 'prompt'.", "invalid_request_error",
                      "missing_required_parameter", "prompt");
  }
  if (extension && (!seconds || (*seconds != "4" && *seconds != "8" && *seconds != "12"))) {
    return send_error(res, 400, "Invalid 'seconds': expected one of '4', '8', or '12'.",
                      "invalid_request_error", "invalid_value", "seconds");
  }
  const auto parent_id = string_field(fields, "video.id");
  const bool uploaded = fields.contains("video") && fields.at("video").kind == FieldKind::file;
  if (!parent_id && !uploaded) {
    return send_error(res, 400, "Missing required parameter: 'video'.", "invalid_request_error",
                      "missing_required_parameter", "video");
  }
  std::optional<Video> parent = parent_id ? ctx.store.find(*parent_id) : std::nullopt;
  if (parent_id && (!parent || video_state(*parent, now_ms()).phase != Phase::completed)) {
    return send_error(res, parent ? 400 : 404,
                      "Video '" + *parent_id + "' is not a completed video.",
                      "invalid_request_error", {}, "video");
  }
  if (parent) {
    spec = NewVideo{parent->model,       spec.prompt, parent->size, parent->seconds,
                    parent->orientation, {},          parent->id,   parent->width,
                    parent->height,      false};
  }
  if (extension) {
    spec.seconds = std::to_string(std::atoi(spec.seconds.c_str()) * (parent ? 1 : 0) +
                                  std::atoi(seconds->c_str()));
  }
  spec.task_id = ctx.options.shape == "task";
  finish_create(ctx, res, std::move(spec), dice, CreateAnswer::by_shape);
}

}  // namespace

void register_gateway_routes(httplib::Server& server, SimContext& ctx) {
  server.Post("/v1/video/create",
              [&ctx](const auto& req, auto& res) { handle_unified_create(ctx, req, res); });
  server.Get("/v1/video/query",
             [&ctx](const auto& req, auto& res) { handle_unified_query(ctx, req, res); });
  server.Post("/v1/videos/characters",
              [&ctx](const auto& req, auto& res) { handle_character_create(ctx, req, res); });
  server.Get(R"(/v1/videos/characters/([^/]+))",
             [&ctx](const auto& req, auto& res) { handle_character_get(ctx, req, res); });
  server.Post("/v1/videos/edits",
              [&ctx](const auto& req, auto& res) { handle_derived(ctx, req, res, false); });
  server.Post("/v1/videos/extensions",
              [&ctx](const auto& req, auto& res) { handle_derived(ctx, req, res, true); });
}

}  // namespace sim
