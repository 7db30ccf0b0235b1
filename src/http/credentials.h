// Credentials: the value of a provider's Authorization header, asked for per request, so that a
// signed token (Kling's JWT) is renewed before it expires while a run goes on for hours.
//
// The transport attaches it only to requests marked `with_auth` whose origin is the provider's,
// and never across a redirect to another origin (http/http_transport.h). The value is a secret:
// never logged, never put into an Error. Implementations: static_credentials below, the Kling JWT
// in provider/kling_jwt.h. Not thread-safe: one transport (one thread) asks.
#pragma once

#include <memory>
#include <string>

#include "util/clock.h"

namespace vb {

class Credentials {
 public:
  virtual ~Credentials() = default;
  // The whole header value, scheme included ("Bearer sk-...", "Token vda_..."), for a request
  // leaving at `now` (wall-clock milliseconds).
  virtual std::string authorization(Millis now) = 0;
};

// A key that never changes, sent with `scheme` ("Bearer", "Token").
std::unique_ptr<Credentials> static_credentials(std::string scheme, std::string key);

}  // namespace vb
