// Schema migrations of the PostgreSQL ledger: schema/postgresql/NNN_*.sql, embedded into
// store/pg_schema_sql.h, versions recorded in vidbatch_schema. Unlike SQLite's user_version,
// a table: a PostgreSQL database may hold other applications' tables beside vidbatch's.
#include <iterator>

#include "store/pg_job_store.h"
#include "store/pg_schema_sql.h"

namespace vb::store_detail {

namespace {

// Serializes migrations of concurrent workers (pg_advisory_xact_lock: released at commit).
constexpr const char* k_migration_lock = "SELECT pg_advisory_xact_lock(1447183176, 0)";

// The tables a vidbatch ledger creates: finding one without vidbatch_schema means another
// application's data, which is never touched.
constexpr const char* k_foreign_tables_sql = R"sql(
SELECT string_agg(tablename, ', ' ORDER BY tablename) FROM pg_tables
WHERE schemaname = current_schema()
  AND tablename IN ('batches', 'jobs', 'events', 'characters', 'unclaimed_videos', 'workers',
                    'provider_limits', 'leaders', 'video_checks', 'download_urls'))sql";

Status check_identity(PgConnection& db, int version) {
  if (version == 0) {
    auto foreign = VB_TRY(db.exec(k_foreign_tables_sql));
    if (!foreign.is_null(0, 0)) {
      return fail(ErrorCode::database,
                  "this database has tables named like vidbatch's (" + foreign.text(0, 0) +
                      ") but was not created by vidbatch; refusing to modify it. Give the URL "
                      "of a vidbatch ledger or of a database without them",
                  db.location());
    }
  }
  if (version > pg_latest_schema_version()) {
    return fail(ErrorCode::database,
                "database schema version " + std::to_string(version) +
                    " is newer than this vidbatch knows (" +
                    std::to_string(pg_latest_schema_version()) +
                    "); upgrade vidbatch. The database was not modified",
                db.location());
  }
  return {};
}

}  // namespace

int pg_latest_schema_version() {
  return k_pg_schema_files[std::size(k_pg_schema_files) - 1].version;
}

Result<int> pg_schema_version(PgConnection& db) {
  // A scan of the catalog, not to_regclass: its name cache may still remember the table as
  // missing after another session created it (seen when workers migrate at once).
  auto exists =
      VB_TRY(db.exec("SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
                     "AND tablename = 'vidbatch_schema')"));
  if (!exists.boolean(0, 0)) {
    return 0;
  }
  auto known = VB_TRY(db.exec("SELECT coalesce(max(version), 0) FROM vidbatch_schema"));
  return known.integer(0, 0);
}

Status pg_migrate(PgConnection& db) {
  auto current = VB_TRY(pg_schema_version(db));
  if (current == pg_latest_schema_version()) {
    return {};
  }
  // Everything else is decided under the lock: another worker may be migrating right now.
  auto transaction = VB_TRY(PgTransaction::begin(db));
  VB_TRY(db.exec(k_migration_lock));
  auto version = VB_TRY(pg_schema_version(db));
  if (auto checked = check_identity(db, version); !checked) {
    return checked;
  }
  VB_TRY(
      db.exec("CREATE TABLE IF NOT EXISTS vidbatch_schema (version integer PRIMARY KEY, "
              "name text NOT NULL, applied_at bigint NOT NULL)"));
  for (const SchemaFile& file : k_pg_schema_files) {
    if (file.version <= version) {
      continue;
    }
    auto applied = db.exec(file.sql);
    if (applied) {
      applied = db.exec(
          "INSERT INTO vidbatch_schema VALUES ($1, $2, "
          "(extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
          PgParams().add(file.version).add(file.name));
    }
    if (!applied) {
      Error error = std::move(applied.error());
      error.message = std::string("applying schema postgresql/") + file.name + ": " + error.message;
      return std::unexpected(std::move(error));
    }
  }
  return transaction.commit();
}

}  // namespace vb::store_detail
