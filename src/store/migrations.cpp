#include "store/migrations.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <iterator>

#include "store/schema_sql.h"
#include "store/sqlite_util.h"

namespace vb::store_detail {

int schema_version(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

namespace {

int user_version(SQLite::Database& db) {
  return schema_version(db);
}

// Throws SQLite::Exception; the transaction then rolls back this file only.
void apply_schema_file(SQLite::Database& db, const SchemaFile& file) {
  SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
  // Another process may have migrated between our check and taking the lock.
  if (user_version(db) >= file.version) {
    return;
  }
  db.exec(file.sql);
  db.exec("PRAGMA user_version = " + std::to_string(file.version));
  db.exec("PRAGMA application_id = " + std::to_string(k_application_id));
  transaction.commit();
}

}  // namespace

int latest_schema_version() {
  return k_schema_files[std::size(k_schema_files) - 1].version;
}

Status check_database_identity(SQLite::Database& db, const std::string& path) {
  int version = 0;
  int application_id = 0;
  int objects = 0;
  try {
    // One statement, so one snapshot: read apart, another process's migration could commit
    // between the reads and show tables without the application id.
    SQLite::Statement identity(db,
                               "SELECT (SELECT user_version FROM pragma_user_version), "
                               "(SELECT application_id FROM pragma_application_id), "
                               "(SELECT count(*) FROM sqlite_master)");
    identity.executeStep();
    version = identity.getColumn(0).getInt();
    application_id = identity.getColumn(1).getInt();
    objects = identity.getColumn(2).getInt();
  } catch (const SQLite::Exception& e) {
    return fail(ErrorCode::database,
                std::string("cannot read the file as a SQLite database (") + e.what() +
                    "); give the path of a vidbatch database or of a new file",
                path);
  }
  const bool fresh = version == 0 && application_id == 0 && objects == 0;
  if (!fresh && application_id != k_application_id) {
    return fail(ErrorCode::database,
                "this SQLite database was not created by vidbatch; refusing to modify it. "
                "Give the path of a vidbatch database or of a new file",
                path);
  }
  if (version > latest_schema_version()) {
    return fail(ErrorCode::database,
                "database schema version " + std::to_string(version) +
                    " is newer than this vidbatch knows (" +
                    std::to_string(latest_schema_version()) +
                    "); upgrade vidbatch. The file was not modified",
                path);
  }
  return {};
}

Status migrate(SQLite::Database& db, const std::string& path) {
  const SchemaFile* applying = nullptr;
  try {
    const int current = user_version(db);
    for (const SchemaFile& file : k_schema_files) {
      if (file.version > current) {
        applying = &file;
        apply_schema_file(db, file);
      }
    }
  } catch (const SQLite::Exception& e) {
    Error error = database_error(e, path);
    if (applying != nullptr) {
      error.message = std::string("applying schema ") + applying->name + ": " + error.message;
    }
    return std::unexpected(std::move(error));
  }
  return {};
}

}  // namespace vb::store_detail
