// Helpers of the native-dialect simulator tests: JSON bodies, a Kling JWT signer written here with
// OpenSSL's HMAC (independent of anything in src/, so a fault in the client's signer cannot hide a
// fault in the simulator's check), and polling until a task settles.
#pragma once

#include "support/sim_process.h"
#include "support/test_http.h"

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace vidbatch::test {

// Parses a body; fails the test when it is not JSON.
rapidjson::Document parse_body(const std::string& body);
std::string member_text(const rapidjson::Value& object,
                        const char* name);  // "" when absent or not a string
// `data.status` of a gateway's task record (new-api TaskDto, yunwu): "" when there is none.
std::string record_status(const rapidjson::Document& doc);

// An HS256 JWT over exactly these JSON texts.
std::string sign_jwt(const std::string& header_json, const std::string& payload_json,
                     const std::string& secret);
// Kling's token: iss = access key, nbf = now + nbf_offset_s, exp = now + exp_offset_s.
std::string kling_token(const std::string& access_key, const std::string& secret_key,
                        int64_t nbf_offset_s = -5, int64_t exp_offset_s = 1800);

// The dialect's flags, then --video-bytes 8192 and a 300 ms generation unless `extra` names its own
// --gen-ms (vidbatch-sim refuses a flag given twice), then `extra`.
std::vector<std::string> native_sim_flags(std::vector<std::string> dialect,
                                          const std::vector<std::string>& extra);

HttpResponse post_json(const std::string& url, const std::string& body,
                       std::vector<std::string> headers);

// GETs `url` every 20 ms until the status `status_of` reads from the body is one of `terminal`
// (10 s at most). Returns the last body; `seen` collects every status met on the way.
using StatusReader = std::function<std::string(const rapidjson::Document&)>;
std::string poll_until(const std::string& url, const std::vector<std::string>& headers,
                       const StatusReader& status_of, const std::set<std::string>& terminal,
                       std::set<std::string>& seen);

}  // namespace vidbatch::test
