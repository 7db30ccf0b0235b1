#include "util/error.h"

namespace vb {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input:
      return "invalid_input";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::busy:
      return "busy";
    case ErrorCode::io:
      return "io";
    case ErrorCode::database:
      return "database";
    case ErrorCode::network:
      return "network";
    case ErrorCode::http:
      return "http";
    case ErrorCode::protocol:
      return "protocol";
    case ErrorCode::auth:
      return "auth";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

std::string Error::describe() const {
  return where.empty() ? message : where + ": " + message;
}

}  // namespace vb
