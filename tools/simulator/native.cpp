#include "native.h"

#include "gateway_json.h"
#include "kling_jwt.h"

#include "json_out.h"

#include <algorithm>
#include <array>

namespace sim {

namespace {

bool behind_gateway_wrapper(const SimContext& ctx) {
  return ctx.options.gateway_shape == GatewayShape::taskdto ||
         ctx.options.gateway_shape == GatewayShape::yunwu;
}

// Ark's error.type by HTTP status.
std::string_view seedance_error_type(int http_status) {
  switch (http_status) {
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalServerError";
    default:
      return "BadRequest";
  }
}

std::string vendor_error_body(SimContext& ctx, const VendorError& error) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  switch (ctx.options.dialect) {
    case Dialect::minimax:
      w.Key("base_resp");
      w.StartObject();
      w.Key("status_code");
      w.Int(std::stoi(error.code));
      put(w, "status_msg", error.message);
      w.EndObject();
      break;
    case Dialect::wan:
      put(w, "request_id", ctx.store.new_request_id());
      put(w, "code", error.code);
      put(w, "message", error.message);
      break;
    case Dialect::vidu: {
      std::string trace_id = ctx.store.new_request_id();
      std::erase(trace_id, '-');
      w.Key("code");
      w.Int(error.http_status);
      put(w, "reason", error.code);
      put(w, "message", error.message);
      w.Key("metadata");
      w.StartObject();
      put(w, "trace_id", trace_id);
      w.EndObject();
      break;
    }
    case Dialect::seedance:
      w.Key("error");
      w.StartObject();
      put(w, "code", error.code);
      put(w, "message", error.message);
      put(w, "param", "");
      put(w, "type", seedance_error_type(error.http_status));
      w.EndObject();
      put(w, "request_id", ctx.store.new_request_id());
      break;
    case Dialect::openai:
    case Dialect::chat:
    case Dialect::kling:
      w.Key("code");
      w.Int(std::stoi(error.code));
      put(w, "message", error.message);
      put(w, "request_id", ctx.store.new_request_id());
      break;
  }
  w.EndObject();
  return buffer.GetString();
}

std::string task_error_json(std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "code", code);
  put(w, "message", message);
  w.Key("data");
  w.Null();
  w.EndObject();
  return buffer.GetString();
}

std::string bearer_key(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view k_prefix = "Bearer ";
  return header.starts_with(k_prefix) ? header.substr(k_prefix.size()) : std::string();
}

// The gateway's token check (new-api TokenAuth): any non-empty key, or exactly --require-key.
bool check_gateway_key(const SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string key = bearer_key(req);
  if (key.empty()) {
    send_gateway_error(res, 401, "No token provided (Authorization: Bearer <gateway key>)");
    return false;
  }
  if (!ctx.options.require_key.empty() && key != ctx.options.require_key) {
    send_gateway_error(res, 401, "Invalid token");
    return false;
  }
  return true;
}

// How a vendor that takes an API key reads it, and what it answers without one or with another.
struct KeyRules {
  std::string_view scheme;
  VendorError missing;
  VendorError wrong;
};

KeyRules key_rules(Dialect dialect) {
  switch (dialect) {
    case Dialect::minimax:
      return {"Bearer ",
              {200, "1004",
               "login fail: Please carry the API secret key in the 'Authorization' field of the "
               "request header"},
              {200, "2049", "invalid api key"}};
    case Dialect::vidu:
      return {"Token ",
              {401, "Unauthorized",
               "Authorization required: send 'Authorization: Token {api_key}'"},
              {401, "Unauthorized", "invalid api key"}};
    case Dialect::seedance:
      return {"Bearer ",
              {401, "AuthenticationError",
               "the API key or AK/SK in the request is missing or invalid"},
              {401, "AuthenticationError",
               "the API key or AK/SK in the request is missing or invalid"}};
    case Dialect::openai:
    case Dialect::chat:
    case Dialect::kling:
    case Dialect::wan:
      break;
  }
  return {"Bearer ",
          {401, "InvalidApiKey", "No API-key provided."},
          {401, "InvalidApiKey", "Invalid API-key provided."}};
}

// The vendor's own credentials; nullopt when they pass.
std::optional<VendorError> vendor_auth_error(SimContext& ctx, const httplib::Request& req) {
  if (ctx.options.dialect == Dialect::kling) {
    const JwtVerdict verdict = check_kling_jwt(req.get_header_value("Authorization"),
                                               ctx.options.kling_access_key,
                                               ctx.options.kling_secret_key, now_ms() / 1000);
    if (verdict.code == 0) {
      return std::nullopt;
    }
    ctx.stats.count_jwt_rejected(verdict.code);
    return VendorError{401, std::to_string(verdict.code), verdict.message};
  }
  const KeyRules rules = key_rules(ctx.options.dialect);
  const std::string header = req.get_header_value("Authorization");
  const std::string key = header.starts_with(rules.scheme) ? header.substr(rules.scheme.size())
                                                           : std::string();
  if (key.empty()) {
    return rules.missing;
  }
  if (!ctx.options.require_key.empty() && key != ctx.options.require_key) {
    return rules.wrong;
  }
  return std::nullopt;
}

std::string escape_regex(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::string_view(R"(\^$.|?*+()[]{})").find(c) != std::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string served_path(const SimContext& ctx, std::string_view vendor_path) {
  return ctx.options.gateway_prefix + std::string(vendor_path);
}

std::string served_pattern(const SimContext& ctx, std::string_view vendor_regex) {
  return escape_regex(ctx.options.gateway_prefix) + std::string(vendor_regex);
}

VendorError vendor_refusal(const SimContext& ctx, VendorFaultKind kind) {
  // In VendorFaultKind order: rate_limit, concurrency, balance, sensitive, invalid, server.
  struct Refusal {
    int http_status;
    std::string_view code;
    std::string_view message;
  };
  const auto make = [](const Refusal& refusal) {
    return VendorError{refusal.http_status, std::string(refusal.code),
                       std::string(refusal.message)};
  };
  static constexpr std::array<Refusal, 6> k_kling = {{
      {429, "1302",
       "The API request rate exceeds the platform's rate limit; reduce the request frequency"},
      {429, "1303", "Concurrency or QPS exceeds the prepaid resource package limit"},
      {429, "1102", "The resource package is used up or has expired"},
      {400, "1301", "The input triggers the platform's content security policy"},
      {400, "1201", "Invalid request parameters"},
      {500, "5000", "Internal server error"},
  }};
  static constexpr std::array<Refusal, 6> k_minimax = {{
      {200, "1002", "rate limit exceeded(RPM)"},
      {200, "1002", "rate limit exceeded(RPM)"},  // MiniMax has no concurrency code
      {200, "1008", "insufficient balance"},
      {200, "1026", "input new_sensitive"},
      {200, "2013", "invalid params"},
      {200, "1024", "internal error"},
  }};
  static constexpr std::array<Refusal, 6> k_wan = {{
      {429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."},
      {429, "Throttling.AllocationQuota",
       "Allocated quota exceeded, please increase your quota limit."},
      {400, "Arrearage", "Access denied, please make sure your account is in good standing."},
      {400, "DataInspectionFailed", "Input data may contain inappropriate content."},
      {400, "InvalidParameter", "The parameter is invalid."},
      {500, "InternalError",
       "An internal error has occured, please try again later or contact service support."},
  }};
  static constexpr std::array<Refusal, 6> k_vidu = {{
      {429, "TooManyRequests", "Too many requests, please slow down"},
      {429, "QuotaExceeded", "Exceeded concurrency limit"},
      {400, "CreditInsufficient", "Insufficient credits"},
      {400, "TaskPromptPolicyViolation", "The prompt violates the content policy"},
      {400, "FieldInvalid", "A field is invalid"},
      {500, "InternalServiceFailure", "Internal service failure"},
  }};
  static constexpr std::array<Refusal, 6> k_seedance = {{
      {429, "RateLimitExceeded.EndpointRPMExceeded",
       "The request rate exceeds the endpoint's RPM limit."},
      {429, "ServerOverloaded",
       "The service is unable to handle additional requests due to server overload."},
      {403, "AccountOverdueError", "The account is overdue; recharge it to continue."},
      {400, "InputTextSensitiveContentDetected",
       "The input text may contain sensitive information."},
      {400, "InvalidParameter", "A parameter specified in the request is not valid."},
      {500, "InternalServiceError", "The service encountered an unexpected internal error."},
  }};
  switch (ctx.options.dialect) {
    case Dialect::minimax:
      return make(k_minimax.at(static_cast<size_t>(kind)));
    case Dialect::wan:
      return make(k_wan.at(static_cast<size_t>(kind)));
    case Dialect::vidu:
      return make(k_vidu.at(static_cast<size_t>(kind)));
    case Dialect::seedance:
      return make(k_seedance.at(static_cast<size_t>(kind)));
    case Dialect::openai:
    case Dialect::chat:
    case Dialect::kling:
      break;
  }
  return make(k_kling.at(static_cast<size_t>(kind)));
}

void send_gateway_error(httplib::Response& res, int status, std::string_view message,
                        std::string_view code) {
  send_json(res, status, error_json(message, "new_api_error", code));
}

void send_task_not_exist(httplib::Response& res) {
  send_json(res, 400, task_error_json("task_not_exist", "task_not_exist"));
}

void send_vendor_error(SimContext& ctx, httplib::Response& res, Step step,
                       const VendorError& error) {
  ctx.stats.count_vendor_code(error.code);
  const std::string body = vendor_error_body(ctx, error);
  if (ctx.options.gateway_shape != GatewayShape::taskdto || step != Step::create) {
    return send_json(res, error.http_status, body);
  }
  if (error.http_status != 200) {
    return send_json(res, error.http_status, task_error_json("fail_to_fetch_task", body));
  }
  send_json(res, 400, task_error_json(error.code, "hailuo api error: " + error.message));
}

bool native_prologue(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                     const std::string& route, Step step, Dice& dice) {
  ctx.stats.count_request(route);
  const FaultConfig config = ctx.faults.config();
  if (config.latency_ms > 0) {
    ctx.shutdown.sleep_for(std::chrono::milliseconds(config.latency_ms));
  }
  if (is_gateway(ctx.options)) {
    if (!check_gateway_key(ctx, req, res)) {
      return false;
    }
  } else if (const auto error = vendor_auth_error(ctx, req)) {
    send_vendor_error(ctx, res, step, *error);
    return false;
  }
  dice = ctx.faults.roll();
  if (!dice.fail_429 && !dice.fail_500) {
    return true;
  }
  ctx.stats.count_fault(dice.fail_429 ? "429" : "500");
  if (behind_gateway_wrapper(ctx) && step != Step::create) {
    // The gateway answers queries from its own records: its own errors, not the vendor's.
    send_gateway_error(res, dice.fail_429 ? 429 : 500,
                       dice.fail_429 ? "Too many requests, please try again later"
                                     : "Internal server error");
  } else {
    send_vendor_error(ctx, res, step,
                      vendor_refusal(ctx, dice.fail_429 ? VendorFaultKind::rate_limit
                                                        : VendorFaultKind::server));
  }
  return false;
}

std::optional<Video> admit_native_create(SimContext& ctx, httplib::Response& res, Video video,
                                         const Dice& dice, const VendorError& duplicate) {
  if (const auto kind = ctx.faults.take_vendor_fault()) {
    ctx.stats.count_fault("vendor_" + std::string(to_string(*kind)));
    send_vendor_error(ctx, res, Step::create, vendor_refusal(ctx, *kind));
    return std::nullopt;
  }
  std::unique_lock admitting(ctx.admitting);
  const CreateLimit limit = check_create_limits(ctx);
  if (limit != CreateLimit::none) {
    ctx.stats.count_fault("429");
    const auto kind = limit == CreateLimit::in_flight ? VendorFaultKind::concurrency
                                                      : VendorFaultKind::rate_limit;
    send_vendor_error(ctx, res, Step::create, vendor_refusal(ctx, kind));
    return std::nullopt;
  }
  if (drop_create(ctx, res)) {
    return std::nullopt;
  }
  const auto in_flight =
      ctx.store.add_unless_taken(video, static_cast<size_t>(ctx.options.run_slots));
  if (!in_flight) {
    send_vendor_error(ctx, res, Step::create, duplicate);
    return std::nullopt;
  }
  admitting.unlock();
  ctx.stats.count_create(video.prompt);
  ctx.stats.observe_in_flight(*in_flight);
  if (ctx.faults.take_lost_create(dice.lose_create)) {
    lose_create_answer(ctx, res);
    return std::nullopt;
  }
  return ctx.store.find(video.id);
}

std::optional<Video> create_native_task(SimContext& ctx, httplib::Response& res, Video video,
                                        const Dice& dice, const VendorError& duplicate) {
  const bool relayed = ctx.options.gateway_shape == GatewayShape::taskdto;
  if (relayed) {
    video.public_id = ctx.store.new_public_task_id();
  }
  complete_video(ctx, video);
  auto created = admit_native_create(ctx, res, std::move(video), dice, duplicate);
  if (created && relayed) {
    send_json(res, 200, openai_video_created_json(*created, created->public_id));
    return std::nullopt;
  }
  return created;
}

TaskLookup start_task_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                            const std::string& route, const std::string& id,
                            const TaskDtoBody& task_dto_body) {
  Dice dice;
  if (!native_prologue(ctx, req, res, route, Step::query, dice)) {
    return {true, std::nullopt};
  }
  ctx.stats.count_query();
  if (apply_drop(ctx, dice, res)) {
    return {true, std::nullopt};
  }
  auto task = id.empty() ? std::nullopt : find_task(ctx, id);
  if (ctx.options.gateway_shape != GatewayShape::taskdto) {
    return {false, std::move(task)};
  }
  const int64_t now = now_ms();
  if (task) {
    send_json(res, 200, task_dto_body(ctx, *task, video_state(*task, now), now));
  } else {
    send_task_not_exist(res);
  }
  return {true, std::nullopt};
}

bool start_task_list(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                     const std::string& path) {
  Dice dice;
  if (!native_prologue(ctx, req, res, "GET " + path, Step::list, dice) ||
      apply_drop(ctx, dice, res)) {
    return false;
  }
  if (ctx.options.no_list || ctx.options.gateway_shape == GatewayShape::taskdto) {
    send_gateway_error(res, 404, "Invalid URL (GET " + path + ")");
    return false;
  }
  return true;
}

std::vector<Video> known_tasks(const SimContext& ctx, int64_t now, const TaskFilter& keep) {
  std::vector<Video> tasks;
  for (auto& video : ctx.store.all()) {
    if (!task_forgotten(ctx, video, now) && keep(video, video_state(video, now))) {
      tasks.push_back(std::move(video));
    }
  }
  std::reverse(tasks.begin(), tasks.end());
  return tasks;
}

PageRange page_range(size_t total, size_t index, size_t size) {
  const size_t begin = std::min(total, index * size);
  return {begin, std::min(total, begin + size)};
}

bool task_forgotten(const SimContext& ctx, const Video& video, int64_t now) {
  const VideoState state = video_state(video, now);
  return is_terminal(state.phase) && now > state.finished_ms + ctx.options.task_ttl_ms;
}

std::optional<Video> find_task(const SimContext& ctx, const std::string& id) {
  if (ctx.options.gateway_shape == GatewayShape::taskdto) {
    return ctx.store.find_by_public_id(id);
  }
  return ctx.store.find(id);
}

}  // namespace sim
