// Internal to src/store: schema migration on open.
//
// The schema lives in schema/NNN_name.sql, embedded at build time into the
// generated header store/schema_sql.h (see src/store/CMakeLists.txt). PRAGMA
// user_version holds the number of the last file applied; each newer file is
// applied in its own IMMEDIATE transaction together with the new user_version,
// so a crash leaves the database at a whole version. PRAGMA application_id
// marks the file as a vidbatch ledger.
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <string>

#include "store/schema_file.h"
#include "util/error.h"

namespace vb::store_detail {

// 'VBCH': tells a vidbatch ledger from any other SQLite file.
inline constexpr std::int32_t k_application_id = 0x56424348;

// The newest schema version this build knows.
int latest_schema_version();

// The database's schema version (its user_version; 0 for a new file).
int schema_version(SQLite::Database& db);

// Fails (ErrorCode::database, naming `path`) without writing anything when the
// file is not SQLite, is another application's database, or has a schema newer
// than this build. Call before anything that could write (journal_mode=WAL does).
Status check_database_identity(SQLite::Database& db, const std::string& path);

// Applies every schema file newer than the database's user_version. On failure
// the database stays at the last version fully applied.
Status migrate(SQLite::Database& db, const std::string& path);

}  // namespace vb::store_detail
