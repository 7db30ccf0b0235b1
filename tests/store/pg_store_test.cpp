// [store][postgres] what the PostgreSQL ledger adds to the contract: URLs, its own migrations
// and identity check, read-only opens, the run lock, and a lost connection.
#include <thread>

#include "store/pg_job_store.h"
#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

int schema_version_of(const PgLedger& ledger) {
  auto db = store_detail::PgConnection::connect(ledger.location(), ledger.location());
  REQUIRE(db.has_value());
  auto version = store_detail::pg_schema_version(**db);
  REQUIRE(version.has_value());
  return *version;
}

}  // namespace

TEST_CASE("the backend is chosen by the location, and a URL's password is never shown", "[store]") {
  CHECK(JobStore::is_server_url("postgresql://u@db.example/ledger"));
  CHECK(JobStore::is_server_url("postgres:///ledger?host=/run/postgresql"));
  CHECK_FALSE(JobStore::is_server_url("vidbatch.db"));
  CHECK_FALSE(JobStore::is_server_url("./postgresql:/x.db"));
  CHECK(JobStore::display_location("postgresql://vb:s3cr@t@db.example:5433/ledger?ssl=1") ==
        "postgresql://vb:***@db.example:5433/ledger?ssl=1");
  CHECK(JobStore::display_location("postgres://db/ledger?user=vb&password=hunter2&sslmode=x") ==
        "postgres://db/ledger?user=vb&password=***&sslmode=x");
  CHECK(JobStore::display_location("postgresql://vb@db/ledger") == "postgresql://vb@db/ledger");
  CHECK(JobStore::display_location("runs/vidbatch.db") == "runs/vidbatch.db");
}

TEST_CASE("open creates the ledger in an empty PostgreSQL database, once", "[store][postgres]") {
  PgLedger ledger;
  CHECK_FALSE(JobStore::exists(ledger.location()).value());
  // Workers starting together migrate once; both open.
  std::vector<std::thread> openers;
  std::vector<std::optional<Error>> errors(3);
  for (std::size_t i = 0; i < errors.size(); ++i) {
    openers.emplace_back([&, i] {
      auto store = JobStore::open(ledger.location());
      if (!store) {
        errors[i] = store.error();
      }
    });
  }
  for (auto& t : openers) {
    t.join();
  }
  for (const auto& error : errors) {
    INFO((error ? error->describe() : std::string()));
    CHECK_FALSE(error.has_value());
  }
  CHECK(JobStore::exists(ledger.location()).value());
  CHECK(ledger.rows("vidbatch_schema") == store_detail::pg_latest_schema_version());
  CHECK(schema_version_of(ledger) == store_detail::pg_latest_schema_version());
  for (const char* table :
       {"batches", "jobs", "events", "characters", "unclaimed_videos", "workers", "provider_limits",
        "leaders", "video_checks", "download_urls"}) {
    CHECK(ledger.rows(table) == 0);
  }
}

TEST_CASE("a PostgreSQL ledger newer than this build is refused and left untouched",
          "[store][postgres]") {
  PgLedger ledger;
  {
    auto store = open_store(ledger.location());
    REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  }
  ledger.exec("INSERT INTO vidbatch_schema VALUES (999, '999_future.sql', 0)");
  auto store = JobStore::open(ledger.location());
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::database);
  CHECK(store.error().where == ledger.location());
  CHECK_THAT(store.error().message, Catch::Contains("999") && Catch::Contains("upgrade"));
  CHECK(ledger.rows("jobs") == 2);
  CHECK(ledger.rows("vidbatch_schema") == store_detail::pg_latest_schema_version() + 1);
}

TEST_CASE("a database with tables named like vidbatch's but not its own is never touched",
          "[store][postgres]") {
  PgLedger ledger;
  ledger.exec("CREATE TABLE jobs (name text); INSERT INTO jobs VALUES ('payroll')");
  auto store = JobStore::open(ledger.location());
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::database);
  CHECK_THAT(store.error().message,
             Catch::Contains("not created by vidbatch") && Catch::Contains("jobs"));
  CHECK(ledger.rows("jobs") == 1);
  CHECK_FALSE(JobStore::exists(ledger.location()).value());
  // Its own other tables are fine: vidbatch's tables join them.
  PgLedger shared;
  shared.exec("CREATE TABLE invoices (n int)");
  CHECK(JobStore::open(shared.location()).has_value());
}

TEST_CASE("open_for_reading: no ledger is not_found, and every write fails", "[store][postgres]") {
  PgLedger ledger;
  auto none = JobStore::open_for_reading(ledger.location());
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == ErrorCode::not_found);
  CHECK(ledger.rows("pg_tables WHERE tablename = 'vidbatch_schema'") == 0);  // nothing created
  {
    auto store = open_store(ledger.location());
    REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  }
  auto reader = JobStore::open_for_reading(ledger.location());
  REQUIRE(reader.has_value());
  CHECK((*reader)->list_jobs({})->size() == 1);
  const Transition t = step(1, JobState::queued, JobState::canceled);
  auto written = (*reader)->apply({&t, 1});
  REQUIRE_FALSE(written.has_value());
  CHECK(written.error().code == ErrorCode::database);
  CHECK_THAT(written.error().message, Catch::Contains("reading only"));
  CHECK_FALSE((*reader)->register_worker("w", "h", 1, 1000).has_value());
  CHECK(ledger.rows("jobs WHERE state = 'queued'") == 1);
}

TEST_CASE("the run lock on a PostgreSQL ledger is one process's at a time", "[store][postgres]") {
  PgLedger ledger;
  {
    auto first = JobStore::lock_exclusive(ledger.location());
    REQUIRE(first.has_value());
    auto second = JobStore::lock_exclusive(ledger.location());
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error().code == ErrorCode::busy);
    CHECK_THAT(second.error().message, Catch::Contains("already running"));
  }
  CHECK(JobStore::lock_exclusive(ledger.location()).has_value());  // released with its owner
}

TEST_CASE("a lost connection fails the call that saw it; the next call reconnects",
          "[store][postgres]") {
  PgLedger ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  // The server ends every other session of this database (as a restart or a network cut
  // would); the ledger helper's own session survives.
  ledger.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  auto lost = store->count_states();
  REQUIRE_FALSE(lost.has_value());
  CHECK(lost.error().code == ErrorCode::database);
  CHECK_THAT(lost.error().message, Catch::Contains("connection"));
  auto again = store->count_states();
  INFO((again ? std::string() : again.error().describe()));
  REQUIRE(again.has_value());
  CHECK(again->front().count == 2);
  // Prepared statements are prepared again on the new session.
  const Transition t = step(1, JobState::queued, JobState::canceled);
  CHECK(store->apply({&t, 1}).has_value());
}

TEST_CASE("an unreachable server or a missing database is a clear error", "[store][postgres]") {
  auto no_server = JobStore::open("postgresql://vb:pw@/ledger?host=/nonexistent/socket/dir");
  REQUIRE_FALSE(no_server.has_value());
  CHECK(no_server.error().code == ErrorCode::database);
  CHECK(no_server.error().where == "postgresql://vb:***@/ledger?host=/nonexistent/socket/dir");
  CHECK_THAT(no_server.error().message, Catch::Contains("cannot connect"));

  PgLedger ledger;  // starts the server
  const std::string url = test::pg_database_url("no_such_database");
  auto missing = JobStore::open(url);
  REQUIRE_FALSE(missing.has_value());
  CHECK_THAT(missing.error().message, Catch::Contains("no_such_database"));
  CHECK_FALSE(JobStore::exists(url).has_value());
}
