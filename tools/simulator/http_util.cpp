#include "http_util.h"

#include "video_json.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

namespace sim {

namespace {

FieldKind kind_of(const rapidjson::Value& v) {
  if (v.IsString()) {
    return FieldKind::string;
  }
  if (v.IsBool()) {
    return FieldKind::boolean;
  }
  if (v.IsInt64() || v.IsUint64()) {
    return FieldKind::integer;
  }
  if (v.IsNumber()) {
    return FieldKind::number;
  }
  if (v.IsObject()) {
    return FieldKind::object;
  }
  if (v.IsArray()) {
    return FieldKind::array;
  }
  return FieldKind::null;
}

std::string raw_json(const rapidjson::Value& v) {
  if (v.IsString()) {
    return std::string(v.GetString(), v.GetStringLength());
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return buffer.GetString();
}

// Nested values are flattened as "video.id" / "images.0" so handlers need no JSON types.
void add_json_field(Fields& out, const std::string& name, const rapidjson::Value& v) {
  out[name] = Field{kind_of(v), raw_json(v)};
  if (v.IsObject()) {
    for (const auto& member : v.GetObject()) {
      add_json_field(out, name + "." + member.name.GetString(), member.value);
    }
  } else if (v.IsArray()) {
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      add_json_field(out, name + "." + std::to_string(i), v[i]);
    }
  }
}

std::string read_json_fields(const std::string& body, Fields& out) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str(), body.size()).HasParseError() || !doc.IsObject()) {
    return "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
           "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
           "sent was not valid JSON.";
  }
  for (const auto& member : doc.GetObject()) {
    add_json_field(out, member.name.GetString(), member.value);
  }
  return {};
}

// Stainless SDKs encode nested multipart values as "video[id]"; map that to "video.id".
std::string multipart_name(std::string name) {
  for (auto& c : name) {
    if (c == '[') {
      c = '.';
    }
  }
  std::erase(name, ']');
  return name;
}

std::optional<size_t> to_size(std::string_view text) {
  size_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

bool check_auth(const SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string header = req.get_header_value("Authorization");
  const std::string_view prefix = "Bearer ";
  const std::string key = header.starts_with(prefix) ? header.substr(prefix.size()) : std::string();
  if (key.empty()) {
    send_error(
        res, 401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
    return false;
  }
  if (!ctx.options.require_key.empty() && key != ctx.options.require_key) {
    send_error(res, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
    return false;
  }
  if (ctx.options.forbid) {
    send_error(res, 403, "You are not allowed to sample from this model", "invalid_request_error",
               "model_not_found");
    return false;
  }
  return true;
}

}  // namespace

void send_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void send_error(httplib::Response& res, int status, std::string_view message, std::string_view type,
                std::string_view code, std::string_view param) {
  send_json(res, status, error_json(message, type, code, param));
}

void send_rate_limited(SimContext& ctx, httplib::Response& res, std::string_view message) {
  ctx.stats.count_fault("429");
  res.set_header("Retry-After", "1");
  res.set_header("retry-after-ms", std::to_string(ctx.faults.config().retry_after_ms));
  send_error(res, 429, message, "requests", "rate_limit_exceeded");
}

bool api_prologue(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                  const std::string& route, Dice& dice) {
  ctx.stats.count_request(route);
  const FaultConfig config = ctx.faults.config();
  if (config.latency_ms > 0) {
    ctx.shutdown.sleep_for(std::chrono::milliseconds(config.latency_ms));
  }
  if (!check_auth(ctx, req, res)) {
    return false;
  }
  dice = ctx.faults.roll();
  if (dice.fail_429) {
    send_rate_limited(ctx, res, "Rate limit reached for requests. Please try again in 1s.");
    return false;
  }
  if (dice.fail_500) {
    ctx.stats.count_fault("500");
    send_error(res, 500, "The server had an error while processing your request. Sorry about that!",
               "server_error");
    return false;
  }
  return true;
}

void cut_answer(httplib::Response& res, std::string_view content_type, size_t declared_length) {
  res.status = 200;
  res.set_content_provider(std::max<size_t>(declared_length, 1), std::string(content_type),
                           [](size_t, size_t, httplib::DataSink&) { return false; });
}

std::string read_fields(const httplib::Request& req, Fields& out) {
  if (req.is_multipart_form_data()) {
    for (const auto& [name, part] : req.files) {
      const FieldKind kind = part.filename.empty() ? FieldKind::string : FieldKind::file;
      out[multipart_name(name)] = Field{kind, part.content};
    }
    return {};
  }
  return read_json_fields(req.body, out);
}

std::optional<std::string> string_field(const Fields& fields, const std::string& name) {
  const auto it = fields.find(name);
  if (it == fields.end() || it->second.kind != FieldKind::string) {
    return std::nullopt;
  }
  return it->second.text;
}

std::optional<ByteRange> parse_range(const std::string& header, size_t size) {
  ByteRange range{0, size, false};
  const std::string_view prefix = "bytes=";
  if (header.empty() || !header.starts_with(prefix)) {
    return range;
  }
  const std::string_view spec = std::string_view(header).substr(prefix.size());
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return range;  // multi-range or junk: answer the whole body, as RFC 9110 allows
  }
  const auto first = to_size(spec.substr(0, dash));
  const auto last = to_size(spec.substr(dash + 1));
  if (!first && last) {  // suffix range "bytes=-K"
    range.begin = size - std::min(size, *last);
  } else if (first) {
    if (*first >= size) {
      return std::nullopt;
    }
    range.begin = *first;
    range.end = last ? std::min(size, *last + 1) : size;
    if (range.end <= range.begin) {
      return std::nullopt;
    }
  } else {
    return range;
  }
  range.partial = true;
  return range;
}

}  // namespace sim
