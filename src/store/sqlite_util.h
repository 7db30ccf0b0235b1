// Internal to src/store: small helpers shared by the SQLite implementation
// files. SQLiteCpp types may appear here because this header never leaves the
// module; everything public goes through store/job_store.h.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "job/job_state.h"
#include "store/job_store.h"
#include "util/error.h"

// The database clock in milliseconds since the epoch, as SQL (one value per statement).
#define VB_SQLITE_NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"

namespace vb::store_detail {

// Converts a SQLiteCpp exception into our Error (ErrorCode::database), naming
// `where` (the database path) and adding a hint for the errors a user can act on.
Error database_error(const SQLite::Exception& e, const std::string& where);

// Runs `body` (returning a Result or Status) and turns any SQLiteCpp exception
// into a database Error: the one place where SQLite exceptions stop.
template <typename Body>
auto guard_sql(const std::string& where, Body&& body) -> decltype(body()) {
  try {
    return std::forward<Body>(body)();
  } catch (const SQLite::Exception& e) {
    return std::unexpected(database_error(e, where));
  }
}

// The PRAGMA that sets a connection's `synchronous` to `sync`.
const char* sync_pragma(SyncMode sync);

// Resets a (usually cached) statement when leaving scope, also on exceptions:
// an unreset SELECT would keep a read transaction open and pin the WAL.
class StatementReset {
 public:
  explicit StatementReset(SQLite::Statement& statement) : m_statement(statement) {
    m_statement.tryReset();
  }
  ~StatementReset() { m_statement.tryReset(); }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  SQLite::Statement& m_statement;
};

// Binds the value, or NULL when unset (used with COALESCE(?, column) updates).
template <typename T>
void bind_optional(SQLite::Statement& statement, int index, const std::optional<T>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

// The current row of a statement, for store/row_reading.h.
class SqliteRow {
 public:
  explicit SqliteRow(const SQLite::Statement& statement) : m_statement(statement) {}
  std::int64_t int64(int column) const { return m_statement.getColumn(column).getInt64(); }
  int integer(int column) const { return m_statement.getColumn(column).getInt(); }
  std::string text(int column) const { return m_statement.getColumn(column).getString(); }
  bool is_null(int column) const { return m_statement.getColumn(column).isNull(); }
  double real(int column) const { return m_statement.getColumn(column).getDouble(); }

 private:
  const SQLite::Statement& m_statement;
};

// Parses a state name read from the database; an unknown name is corruption
// (or a newer build's state) and becomes a database Error.
Result<JobState> state_from_column(const SQLite::Column& column, const std::string& where);

}  // namespace vb::store_detail
