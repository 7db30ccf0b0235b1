// [store] opening, migrating and importing.
#include <SQLiteCpp/SQLiteCpp.h>

#include "store/migrations.h"
#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

int pragma_int(const std::string& path, const char* pragma) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet(std::string("PRAGMA ") + pragma).getInt();
}

// Everything a failed import must leave as it was.
template <typename Ledger>
std::string dump(JobStore& store, const Ledger& ledger) {
  std::string text;
  for (const char* table : {"batches", "jobs", "events"}) {
    text += std::string(table) + " " + std::to_string(ledger.rows(table)) + "\n";
  }
  auto jobs = store.list_jobs({});
  REQUIRE(jobs.has_value());
  for (const JobRecord& job : *jobs) {
    text += job.batch + "/" + job.spec.id + " " + to_string(job.state) + " " +
            job.spec.canonical_json() + "\n";
  }
  auto events = store.events(std::nullopt);
  REQUIRE(events.has_value());
  text += "events " + std::to_string(events->size()) + "\n";
  return text;
}

}  // namespace

TEST_CASE("open migrates an empty file to the latest schema", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    auto store = open_store(path);
    auto counts = store->count_states();
    REQUIRE(counts.has_value());
    CHECK(counts->empty());
  }
  CHECK(pragma_int(path, "user_version") == store_detail::latest_schema_version());
  CHECK(pragma_int(path, "application_id") == store_detail::k_application_id);
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(db.tableExists("batches"));
  CHECK(db.tableExists("jobs"));
  CHECK(db.tableExists("events"));
}

TEMPLATE_TEST_CASE("reopening keeps the data", "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  {
    auto store = open_store(ledger.location(), SyncMode::full);
    REQUIRE(store->import_jobs("nightly", make_specs(3), 1000, false).has_value());
  }
  auto store = open_store(ledger.location(), SyncMode::full);
  auto jobs = store->list_jobs({});
  REQUIRE(jobs.has_value());
  CHECK(jobs->size() == 3);
}

TEST_CASE("a database from a newer vidbatch is refused and left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    auto store = open_store(path);
    REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = 999");
  }
  const std::string before = read_bytes(path);
  auto store = JobStore::open(path);
  REQUIRE_FALSE(store.has_value());
  CHECK(store.error().code == ErrorCode::database);
  CHECK(store.error().where == path);
  CHECK_THAT(store.error().message,
             Catch::Contains("999") &&
                 Catch::Contains(std::to_string(store_detail::latest_schema_version())));
  CHECK(read_bytes(path) == before);
  CHECK(pragma_int(path, "user_version") == 999);
}

TEST_CASE("a file that is not a vidbatch database is refused and left untouched", "[store]") {
  TempDir dir;
  SECTION("not SQLite at all") {
    const std::string path = dir.file("notes.txt");
    std::ofstream(path) << "these are not the pages you are looking for, not even one of them\n";
    const std::string before = read_bytes(path);
    auto store = JobStore::open(path);
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().code == ErrorCode::database);
    CHECK(store.error().where == path);
    CHECK_THAT(store.error().message, Catch::Contains("SQLite"));
    CHECK(read_bytes(path) == before);
  }
  SECTION("another application's SQLite database") {
    const std::string path = dir.file("other.db");
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE contacts (name TEXT)");
    }
    const std::string before = read_bytes(path);
    auto store = JobStore::open(path);
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().where == path);
    CHECK_THAT(store.error().message, Catch::Contains("not created by vidbatch"));
    CHECK(read_bytes(path) == before);
  }
  SECTION("a directory that does not exist") {
    auto store = JobStore::open(dir.file("missing/ledger.db"));
    REQUIRE_FALSE(store.has_value());
    CHECK(store.error().code == ErrorCode::database);
    CHECK(store.error().where == dir.file("missing/ledger.db"));
  }
}

// Workers started together on a new ledger: each one's identity check may run while another
// migrates, and must see the file before or after a schema file, never half of one.
TEST_CASE("processes opening a new ledger at once all open it", "[store]") {
  TempDir dir;
  constexpr int k_rounds = 30;
  constexpr int k_openers = 6;
  for (int round = 0; round < k_rounds; ++round) {
    const std::string path = dir.file("ledger-" + std::to_string(round) + ".db");
    std::vector<std::string> errors(k_openers);
    std::vector<std::thread> openers;
    for (int i = 0; i < k_openers; ++i) {
      openers.emplace_back([&path, &error = errors[i]] {
        if (auto store = JobStore::open(path); !store) {
          error = store.error().message;
        }
      });
    }
    for (auto& opener : openers) {
      opener.join();
    }
    for (const std::string& error : errors) {
      INFO("round " << round << ": " << error);
      CHECK(error.empty());
    }
  }
}

TEMPLATE_TEST_CASE("import adds queued jobs with a creation event and is idempotent", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  auto first = store->import_jobs("nightly", make_specs(5), 1000, false);
  REQUIRE(first.has_value());
  CHECK(first->batch == "nightly");
  CHECK(first->added == 5);
  CHECK(first->unchanged == 0);

  auto second = store->import_jobs("nightly", make_specs(5), 2000, false);
  REQUIRE(second.has_value());
  CHECK(second->added == 0);
  CHECK(second->unchanged == 5);
  CHECK(second->replaced == 0);

  auto job = store->find_job("nightly", "job-3");
  REQUIRE(job.has_value());
  REQUIRE(job->has_value());
  CHECK((*job)->state == JobState::queued);
  CHECK((*job)->created_at == 1000);
  CHECK((*job)->spec.canonical_json() == make_specs(5)[3].canonical_json());

  auto events = store->events(std::nullopt);
  REQUIRE(events.has_value());
  REQUIRE(events->size() == 5);
  CHECK_FALSE(events->front().from.has_value());
  CHECK(events->front().to == JobState::queued);
  CHECK(events->front().message == "imported");
  CHECK(events->front().job_id == "job-0");
  CHECK(events->front().batch == "nightly");
}

TEMPLATE_TEST_CASE("the same job id in two batches is two jobs", "[store]", SqliteLedger,
                   PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("a", make_specs(2), 1000, false).has_value());
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  CHECK(row_of(*store, "a", "job-0") != row_of(*store, "b", "job-0"));
  auto none = store->find_job("c", "job-0");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
}

TEMPLATE_TEST_CASE("a changed spec fails the whole import and writes nothing", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("nightly", make_specs(3), 1000, false).has_value());
  const std::string before = dump(*store, ledger);

  auto specs = make_specs(5);  // two new jobs, and one changed
  specs[1].prompt = "a dog surfing";
  auto result = store->import_jobs("nightly", specs, 2000, false);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::conflict);
  CHECK(result.error().where == "job nightly/job-1");
  CHECK_THAT(result.error().message, Catch::Contains("nightly") && Catch::Contains("job-1") &&
                                         Catch::Contains("--allow-spec-change") &&
                                         Catch::Contains("Rename"));
  CHECK(dump(*store, ledger) == before);

  SECTION("a conflict in a new batch does not create the batch") {
    auto duplicate = make_specs(2);
    duplicate.push_back(make_spec("job-0", "other"));
    auto failed = store->import_jobs("weekly", duplicate, 3000, false);
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error().code == ErrorCode::invalid_input);
    CHECK(dump(*store, ledger) == before);
  }
}

TEMPLATE_TEST_CASE("allow_spec_changes replaces jobs still queued, and only those", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("nightly", make_specs(3), 1000, false).has_value());
  const auto submitting = row_of(*store, "nightly", "job-2");
  const Transition t = step(submitting, JobState::queued, JobState::submitting);
  REQUIRE(store->apply({&t, 1}).has_value());

  auto specs = make_specs(3);
  specs[0].prompt = "a dog surfing";
  SECTION("a queued job is replaced in place") {
    auto result = store->import_jobs("nightly", specs, 2000, true);
    REQUIRE(result.has_value());
    CHECK(result->replaced == 1);
    CHECK(result->unchanged == 2);
    CHECK(result->added == 0);
    auto job = store->find_job("nightly", "job-0");
    REQUIRE(job->has_value());
    CHECK((*job)->spec.prompt == "a dog surfing");
    auto events = store->events((*job)->row_id);
    REQUIRE(events->size() == 2);
    CHECK(events->back().from == JobState::queued);
    CHECK(events->back().to == JobState::queued);
    CHECK(events->back().message == "spec replaced");
  }
  SECTION("a job past queued is still a conflict, and nothing is replaced") {
    specs[2].prompt = "changed after submission";
    auto result = store->import_jobs("nightly", specs, 2000, true);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == ErrorCode::conflict);
    CHECK(result.error().where == "job nightly/job-2");
    CHECK_THAT(result.error().message, Catch::Contains("submitting"));
    auto job = store->find_job("nightly", "job-0");
    CHECK((*job)->spec.prompt == "prompt number 0");
  }
}

TEMPLATE_TEST_CASE("a large import is one transaction", "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location(), SyncMode::full);
  auto result = store->import_jobs("big", make_specs(20000), 1000, false);
  REQUIRE(result.has_value());
  CHECK(result->added == 20000);
  auto counts = store->count_states();
  REQUIRE(counts->size() == 1);
  CHECK(counts->front().count == 20000);
}
