// Shared HTTP plumbing for the route files: the API prologue (stats, latency, auth, injected
// 429/500), error envelopes, request-field parsing for JSON and multipart bodies, Range parsing,
// and the "cut the answer" trick used by the drop / lost-answer / truncate faults.
#pragma once

#include "sim_context.h"

#include <httplib.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sim {

void send_json(httplib::Response& res, int status, const std::string& body);
void send_error(httplib::Response& res, int status, std::string_view message,
                std::string_view type = "invalid_request_error", std::string_view code = {},
                std::string_view param = {});

// Runs before every /v1 handler. Counts the request under `route`, sleeps --latency-ms, checks
// the bearer key, then applies injected 429/500. Returns false when `res` already holds the
// answer (the handler must return at once). `dice` receives this request's fault draws.
bool api_prologue(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                  const std::string& route, Dice& dice);

// A 429 with the OpenAI envelope and Retry-After / retry-after-ms headers.
void send_rate_limited(SimContext& ctx, httplib::Response& res, std::string_view message);

// Sends a 200 status line and headers announcing `declared_length` bytes, then closes the
// connection without a body: curl reports "transfer closed with N bytes remaining" (error 18).
void cut_answer(httplib::Response& res, std::string_view content_type, size_t declared_length);

enum class FieldKind { string, integer, number, boolean, object, array, null, file };

struct Field {
  FieldKind kind = FieldKind::string;
  std::string text;  // string value, number text, file content or raw JSON of objects
};

using Fields = std::map<std::string, Field>;

// Reads a JSON object or multipart/form-data body into fields. Returns an error message on a
// malformed body (empty string on success).
std::string read_fields(const httplib::Request& req, Fields& out);
std::optional<std::string> string_field(const Fields& fields, const std::string& name);

struct ByteRange {
  size_t begin = 0;
  size_t end = 0;  // exclusive
  bool partial = false;
};

// Parses a single "bytes=N-" / "bytes=N-M" / "bytes=-K" against `size`. nullopt = unsatisfiable.
std::optional<ByteRange> parse_range(const std::string& header, size_t size);

}  // namespace sim
