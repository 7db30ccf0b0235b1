// The official OpenAI video routes: create, retrieve, list, delete, remix.
#include "routes.h"

#include "content.h"

#include <algorithm>
#include <cctype>

namespace sim {

namespace {

constexpr size_t k_max_prompt = 32000;

struct Invalid {
  std::string message;
  std::string code;
  std::string param;
};

std::optional<Invalid> check_prompt(const Fields& fields) {
  const auto prompt = string_field(fields, "prompt");
  if (!prompt) {
    return Invalid{"Missing required parameter: 'prompt'.", "missing_required_parameter", "prompt"};
  }
  if (prompt->empty()) {
    return Invalid{
        "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an "
        "empty string instead.",
        "empty_string", "prompt"};
  }
  if (prompt->size() > k_max_prompt) {
    return Invalid{
        "Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got "
        "a string with length " +
            std::to_string(prompt->size()) + " instead.",
        "string_above_max_length", "prompt"};
  }
  return std::nullopt;
}

std::optional<Invalid> check_seconds(const Fields& fields, const std::string& name, bool gateway) {
  const auto it = fields.find(name);
  if (it == fields.end()) {
    return std::nullopt;
  }
  if (it->second.kind == FieldKind::integer || it->second.kind == FieldKind::number) {
    return Invalid{"Invalid type for '" + name +
                       "': expected one of '4', '8', or '12', but got an " +
                       (it->second.kind == FieldKind::integer ? "integer" : "decimal") +
                       " instead.",
                   "invalid_type", name};
  }
  const std::string& v = it->second.text;
  const bool relayed = gateway && (v == "10" || v == "15" || v == "25");
  if (it->second.kind != FieldKind::string || (v != "4" && v != "8" && v != "12" && !relayed)) {
    return Invalid{"Invalid value: '" + v + "'. Supported values are: '4', '8', and '12'.",
                   "invalid_value", name};
  }
  return std::nullopt;
}

std::optional<Invalid> check_size(const Fields& fields, const std::string& model) {
  const auto size = string_field(fields, "size");
  if (!size) {
    return fields.contains("size")
               ? std::optional(
                     Invalid{"Invalid type for 'size': expected a string.", "invalid_type", "size"})
               : std::nullopt;
  }
  const bool tall = *size == "1024x1792" || *size == "1792x1024";
  if (*size != "720x1280" && *size != "1280x720" && !tall) {
    return Invalid{
        "Invalid value: '" + *size +
            "'. Supported values are: '720x1280', '1280x720', '1024x1792', and '1792x1024'.",
        "invalid_value", "size"};
  }
  if (tall && !is_pro_model(model)) {
    return Invalid{"Invalid 'size': " + *size + " is only supported by sora-2-pro.",
                   "invalid_value", "size"};
  }
  return std::nullopt;
}

std::optional<Invalid> check_model(const Fields& fields) {
  if (fields.contains("model") && string_field(fields, "model").value_or("").empty()) {
    return Invalid{"Invalid 'model': expected a non-empty string.", "invalid_value", "model"};
  }
  return std::nullopt;
}

void set_dimensions(NewVideo& spec) {
  const auto x = spec.size.find('x');
  spec.width = std::atoi(spec.size.substr(0, x).c_str());
  spec.height = std::atoi(spec.size.substr(x + 1).c_str());
  spec.orientation = spec.width > spec.height ? "landscape" : "portrait";
}

void handle_create(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "POST /v1/videos", dice)) {
    return;
  }
  Fields fields;
  if (const auto error = read_fields(req, fields); !error.empty()) {
    return send_error(res, 400, error);
  }
  NewVideo spec;
  spec.model = string_field(fields, "model").value_or("sora-2");
  std::optional<Invalid> invalid = check_model(fields);
  for (auto check :
       {check_prompt(fields), check_seconds(fields, "seconds", ctx.options.gateway_seconds),
        check_size(fields, spec.model)}) {
    invalid = invalid ? invalid : check;
  }
  if (invalid) {
    return send_error(res, 400, invalid->message, "invalid_request_error", invalid->code,
                      invalid->param);
  }
  spec.prompt = *string_field(fields, "prompt");
  spec.seconds = string_field(fields, "seconds").value_or("4");
  spec.size = string_field(fields, "size").value_or("720x1280");
  set_dimensions(spec);
  spec.task_id = ctx.options.shape == "task";
  finish_create(ctx, res, std::move(spec), dice, CreateAnswer::by_shape);
}

void handle_remix(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "POST /v1/videos/{id}/remix", dice)) {
    return;
  }
  Fields fields;
  if (const auto error = read_fields(req, fields); !error.empty()) {
    return send_error(res, 400, error);
  }
  if (const auto invalid = check_prompt(fields)) {
    return send_error(res, 400, invalid->message, "invalid_request_error", invalid->code,
                      invalid->param);
  }
  const std::string parent_id = percent_decode(req.matches[1]);
  const auto parent = ctx.store.find(parent_id);
  if (!parent) {
    return send_error(res, 404, "Video with id '" + parent_id + "' not found.",
                      "invalid_request_error", {}, "video_id");
  }
  if (video_state(*parent, now_ms()).phase != Phase::completed) {
    return send_error(res, 400,
                      "Video '" + parent_id +
                          "' is not completed; only completed videos can be remixed.");
  }
  NewVideo spec{parent->model,       *string_field(fields, "prompt"),
                parent->size,        parent->seconds,
                parent->orientation, {},
                parent_id,           parent->width,
                parent->height,      ctx.options.shape == "task"};
  finish_create(ctx, res, std::move(spec), dice, CreateAnswer::by_shape);
}

void handle_get(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "GET /v1/videos/{id}", dice)) {
    return;
  }
  ctx.stats.count_query();
  if (apply_drop(ctx, dice, res)) {
    return;
  }
  const std::string id = percent_decode(req.matches[1]);
  const auto video = ctx.store.find(id);
  if (!video) {
    return send_error(res, 404, "Video with id '" + id + "' not found.", "invalid_request_error",
                      {}, "video_id");
  }
  send_json(res, 200, query_answer(ctx, *video, ctx.options.shape == "task"));
}

void handle_list(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "GET /v1/videos", dice) || apply_drop(ctx, dice, res)) {
    return;
  }
  if (ctx.options.no_list) {
    return send_error(res, 404, "Invalid URL (GET /v1/videos)", "invalid_request_error", {}, {});
  }
  const std::string order = req.has_param("order") ? req.get_param_value("order") : "desc";
  if (order != "asc" && order != "desc") {
    return send_error(res, 400,
                      "Invalid value: '" + order + "'. Supported values are: 'asc' and 'desc'.",
                      "invalid_request_error", "invalid_value", "order");
  }
  const int limit = req.has_param("limit") ? std::atoi(req.get_param_value("limit").c_str()) : 20;
  if (limit < 0 || limit > 100) {
    return send_error(res, 400, "Invalid 'limit': expected an integer between 0 and 100.",
                      "invalid_request_error", "invalid_value", "limit");
  }
  const auto page =
      ctx.store.list(order == "desc", req.get_param_value("after"), static_cast<size_t>(limit));
  send_json(res, 200, video_list_json(page, now_ms()));
}

void handle_delete(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "DELETE /v1/videos/{id}", dice)) {
    return;
  }
  const std::string id = percent_decode(req.matches[1]);
  if (!ctx.store.remove(id)) {
    return send_error(res, 404, "Video with id '" + id + "' not found.", "invalid_request_error",
                      {}, "video_id");
  }
  send_json(res, 200, deleted_json(id));
}

void answer_create(SimContext& ctx, httplib::Response& res, const Video& video,
                   CreateAnswer answer) {
  if (answer == CreateAnswer::task_created) {
    return send_json(res, 200, task_created_json(video, false));
  }
  if (ctx.options.shape == "task") {
    return send_json(res, 200, task_created_json(video, true));
  }
  send_json(res, 200, video_object_json(video, video_state(video, now_ms())));
}

}  // namespace

void lose_create_answer(SimContext& ctx, httplib::Response& res) {
  ctx.stats.count_fault("lost_create");
  const FaultConfig config = ctx.faults.config();
  if (config.lost_answer_mode == "delay") {
    // Stall so the client's read timeout fires first; the answer is cut afterwards regardless.
    ctx.shutdown.sleep_for(std::chrono::milliseconds(config.lost_answer_delay_ms));
  }
  cut_answer(res, "application/json", 512);
}

void complete_video(const SimContext& ctx, Video& video) {
  video.created_ms = now_ms();
  video.gen_ms = ctx.options.gen_ms;
  video.will_fail = video.prompt.find(ctx.options.fail_marker) != std::string::npos;
  video.never_finishes = video.prompt.find(ctx.options.stuck_marker) != std::string::npos;
  video.content = std::make_shared<const std::string>(make_video_file(video, ctx.options));
  video.sha256 = sha256_hex(*video.content);
}

bool is_pro_model(const std::string& model) {
  return model.starts_with("sora-2-pro");
}

std::string percent_decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool escape = text[i] == '%' && i + 2 < text.size() &&
                        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                        std::isxdigit(static_cast<unsigned char>(text[i + 2]));
    if (escape) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

bool apply_drop(SimContext& ctx, const Dice& dice, httplib::Response& res) {
  if (!dice.drop) {
    return false;
  }
  ctx.stats.count_fault("drop");
  cut_answer(res, "application/json", 512);
  return true;
}

CreateLimit check_create_limits(SimContext& ctx) {
  const int64_t now = now_ms();
  const FaultConfig config = ctx.faults.config();
  if (config.max_in_flight > 0 && ctx.store.count_in_flight(now) >= config.max_in_flight) {
    ctx.stats.count_fault("in_flight_429");
    return CreateLimit::in_flight;
  }
  if (!ctx.faults.admit_create(now)) {
    ctx.stats.count_fault("rpm_429");
    return CreateLimit::rpm;
  }
  return CreateLimit::none;
}

bool refused_by_limits(SimContext& ctx, httplib::Response& res) {
  switch (check_create_limits(ctx)) {
    case CreateLimit::in_flight:
      send_rate_limited(ctx, res,
                        "Too many concurrent video generations. Please wait for some to finish.");
      return true;
    case CreateLimit::rpm:
      send_rate_limited(ctx, res,
                        "Rate limit reached for requests per minute. Please try again later.");
      return true;
    case CreateLimit::none:
      break;
  }
  return false;
}

bool drop_create(SimContext& ctx, httplib::Response& res) {
  if (!ctx.faults.take_dropped_create()) {
    return false;
  }
  // The request reached us but no video exists: the connection breaks first.
  ctx.stats.count_fault("dropped_create");
  cut_answer(res, "application/json", 512);
  return true;
}

// OpenAI's request budget headers on a create's answer, accepted or refused, under --rpm.
void set_rate_limit_headers(SimContext& ctx, httplib::Response& res) {
  if (const auto budget = ctx.faults.rpm_budget(now_ms())) {
    res.set_header("x-ratelimit-limit-requests", std::to_string(budget->limit));
    res.set_header("x-ratelimit-remaining-requests", std::to_string(budget->remaining));
    res.set_header("x-ratelimit-reset-requests", std::to_string(budget->reset_ms) + "ms");
  }
}

void finish_create(SimContext& ctx, httplib::Response& res, NewVideo spec, const Dice& dice,
                   CreateAnswer answer) {
  std::unique_lock admitting(ctx.admitting);
  const bool refused = refused_by_limits(ctx, res);
  set_rate_limit_headers(ctx, res);
  if (refused || drop_create(ctx, res)) {
    return;
  }
  Video video;
  video.id = spec.task_id ? ctx.store.new_task_id(spec.model) : ctx.store.new_video_id();
  video.model = spec.model;
  video.prompt = spec.prompt;
  video.size = spec.size;
  video.seconds = spec.seconds;
  video.orientation = spec.orientation;
  video.images = std::move(spec.images);
  video.remixed_from = spec.remixed_from;
  video.width = spec.width;
  video.height = spec.height;
  complete_video(ctx, video);
  ctx.stats.count_create(video.prompt);
  ctx.stats.observe_in_flight(ctx.store.add(video));
  admitting.unlock();
  if (ctx.faults.take_lost_create(dice.lose_create)) {
    return lose_create_answer(ctx, res);
  }
  answer_create(ctx, res, video, answer);
}

void register_video_routes(httplib::Server& server, SimContext& ctx) {
  server.Post("/v1/videos", [&ctx](const auto& req, auto& res) { handle_create(ctx, req, res); });
  server.Get("/v1/videos", [&ctx](const auto& req, auto& res) { handle_list(ctx, req, res); });
  server.Post(R"(/v1/videos/([^/]+)/remix)",
              [&ctx](const auto& req, auto& res) { handle_remix(ctx, req, res); });
  server.Get(R"(/v1/videos/([^/]+))",
             [&ctx](const auto& req, auto& res) { handle_get(ctx, req, res); });
  server.Delete(R"(/v1/videos/([^/]+))",
                [&ctx](const auto& req, auto& res) { handle_delete(ctx, req, res); });
}

}  // namespace sim
