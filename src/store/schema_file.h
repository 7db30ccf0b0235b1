// Internal to src/store: one versioned schema file, embedded at build time into
// store/schema_sql.h (SQLite, schema/) and store/pg_schema_sql.h (PostgreSQL,
// schema/postgresql/) by src/store/CMakeLists.txt.
#pragma once

namespace vb::store_detail {

struct SchemaFile {
  int version = 0;
  const char* name = "";
  const char* sql = "";
};

}  // namespace vb::store_detail
