// Error: the one error convention of vidbatch.
//
// Expected failures (bad input, I/O, HTTP, database) cross module boundaries as
// `Result<T> = std::expected<T, Error>`. An Error carries a category for code to
// branch on, a message for people, and optional context (file:line:col, job, URL).
// Exceptions are reserved for bugs and for the single catch in main().
// Third-party exceptions (SQLiteCpp, toml++) are caught inside their
// adapter module and converted here. Value type; thread-compatible.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace vb {

enum class ErrorCode {
  invalid_input,   // manifest, config, flags: the user must fix something (exit 2)
  not_found,       // a file, job or batch that does not exist
  conflict,        // e.g. a job id re-imported with a different spec
  io,              // filesystem errors (ENOSPC, permissions)
  database,        // SQLite errors
  network,         // transport failures (connect, timeout, reset)
  http,            // the server answered with an error status
  protocol,        // an answer we could not understand
  auth,            // 401/403: stop the whole run
  internal,        // a bug
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;  // what happened and what to do, one sentence or two
  std::string where;    // "file:line:col", "job cat-surfing", "GET http://..." (may be empty)

  // "where: message", or just the message when there is no context.
  std::string describe() const;
};

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message, std::string where = {}) {
  return std::unexpected(Error{code, std::move(message), std::move(where)});
}

}  // namespace vb
