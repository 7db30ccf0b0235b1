// Error: the one error convention of vidbatch.
//
// Expected failures (bad input, I/O, HTTP, database) cross module boundaries as
// `Result<T> = std::expected<T, Error>`. An Error carries a category for code to
// branch on, a message for people, and optional context (file:line:col, job, URL).
// Exceptions are reserved for bugs and for the single catch in main() (exit 3 with a message).
// Third-party exceptions (SQLiteCpp, toml++) are caught inside their
// adapter module and converted here. Value type; thread-compatible.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace vb {

enum class ErrorCode {
  invalid_input,  // manifest, config, flags: the user must fix something (exit 2)
  not_found,      // a file, job or batch that does not exist
  conflict,       // e.g. a job id re-imported with a different spec
  busy,           // another process holds what is needed (the ledger's run lock)
  io,             // filesystem errors (ENOSPC, permissions)
  database,       // SQLite errors
  network,        // transport failures (connect, timeout, reset)
  http,           // the server answered with an error status
  protocol,       // an answer we could not understand
  auth,           // 401/403: stop the whole run
  internal,       // a bug
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

// Propagation (after ccache's TRY): VB_TRY(expr) evaluates a Result<T> (or Status) and, when it
// failed, returns its Error from the enclosing function (which returns some Result or Status);
// otherwise the macro's value is the T (moved out; void for a Status):
//   auto text = VB_TRY(read_text_file(path));   // std::string
//   VB_TRY(store.apply(moves));                 // a Status
// A GNU statement expression, which g++ and clang accept in C++23 mode.
#define VB_TRY(expr)                                             \
  ({                                                             \
    auto vb_try_result_ = (expr);                                \
    if (!vb_try_result_) {                                       \
      return std::unexpected(std::move(vb_try_result_.error())); \
    }                                                            \
    ::vb::error_detail::value_of(std::move(vb_try_result_));     \
  })

namespace error_detail {

template <typename T, typename E>
T value_of(std::expected<T, E>&& result) {
  return std::move(*result);
}

template <typename E>
void value_of(std::expected<void, E>&&) {}

}  // namespace error_detail

}  // namespace vb
