// Kling's API token check: `Authorization: Bearer <JWT>`, HS256, iss = the access key, signed with
// the secret key, valid from nbf to exp (seconds; no leeway). Pure function of its arguments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sim {

struct JwtVerdict {
  int code = 0;         // 0 valid; else Kling's 401 code (see below)
  std::string message;  // why, for the error body
};

// 1001: no Authorization header or an empty token. 1002: not a Bearer JWT, not HS256, a bad
// signature, claims missing or of the wrong type. 1000: iss is not the access key. 1003: now < nbf.
// 1004: now >= exp.
JwtVerdict check_kling_jwt(std::string_view authorization, const std::string& access_key,
                           const std::string& secret_key, int64_t now_s);

}  // namespace sim
