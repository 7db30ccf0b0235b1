#include "store/sqlite_util.h"

#include <sqlite3.h>

namespace vb::store_detail {

Error database_error(const SQLite::Exception& e, const std::string& where) {
  std::string message = std::string("SQLite: ") + e.what();
  switch (e.getErrorCode()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      message += "; another process kept the database locked for more than 5 s";
      break;
    case SQLITE_FULL:
      message += "; free some disk space, then resume";
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      message += "; check the path and its permissions";
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      message += "; the file is damaged or is not a vidbatch database";
      break;
    default:
      break;
  }
  return Error{ErrorCode::database, std::move(message), where};
}

Result<JobState> state_from_column(const SQLite::Column& column, const std::string& where) {
  const std::string text = column.getString();
  if (auto state = parse_job_state(text)) {
    return *state;
  }
  return fail(ErrorCode::database,
              "unknown job state '" + text + "' in the database (written by a newer vidbatch?)",
              where);
}

const char* sync_pragma(SyncMode sync) {
  switch (sync) {
    case SyncMode::off:
      return "PRAGMA synchronous = OFF";
    case SyncMode::normal:
      return "PRAGMA synchronous = NORMAL";
    case SyncMode::full:
      return "PRAGMA synchronous = FULL";
  }
  return "PRAGMA synchronous = FULL";
}

}  // namespace vb::store_detail
