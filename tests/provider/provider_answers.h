// Test helpers of the [provider] tests: a transport's results as a provider's classify() and
// parsers see them, and a row of a dialect's classify table.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "http/http_transport.h"
#include "provider/answer_class.h"

namespace vb::provider_test {

// An answer with this status, body and headers.
inline HttpResult answered(int status, std::string body = "",
                           std::vector<HttpHeader> headers = {}) {
  HttpResult r;
  r.response.status = status;
  r.response.body = std::move(body);
  r.response.headers = std::move(headers);
  return r;
}

// No answer: the transport failed this way.
inline HttpResult lost(TransportFailure failure) {
  HttpResult r;
  r.failure = failure;
  r.error_text = "curl says so";
  return r;
}

// A 200 response with this body.
inline HttpResponse ok_response(std::string body) {
  HttpResponse r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

// One answer of a classify table and what the dialect must make of it.
struct AnswerRow {
  const char* what;
  RequestPhase phase;
  HttpResult result;
  AnswerKind kind;
  std::string code;
};

}  // namespace vb::provider_test
