// [store] the read paths of status and report: filters, order, and the index they rely on
// (schema 003, jobs_by_batch_state).
#include <SQLiteCpp/SQLiteCpp.h>

#include "store/migrations.h"
#include "store/schema_sql.h"
#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

std::vector<std::string> names(const Result<std::vector<JobRecord>>& jobs) {
  REQUIRE(jobs.has_value());
  std::vector<std::string> out;
  for (const JobRecord& job : *jobs) {
    out.push_back(job.batch + "/" + job.spec.id);
  }
  return out;
}

Status apply_step(JobStore& store, const Transition& t) {
  return store.apply({&t, 1});
}

bool has_index(const std::string& path, const std::string& name) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement query(db,
                          "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?");
  query.bind(1, name);
  query.executeStep();
  return query.getColumn(0).getInt() == 1;
}

// The plan SQLite picks for `sql` on the ledger at `path`, one detail per line.
std::string plan_of(const std::string& path, const std::string& sql) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement query(db, "EXPLAIN QUERY PLAN " + sql);
  std::string plan;
  while (query.executeStep()) {
    plan += query.getColumn(3).getString() + "\n";
  }
  return plan;
}

}  // namespace

TEMPLATE_TEST_CASE("list_jobs: every filter combination, batches by name, jobs in row order",
                   "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  // Imported out of name order so that row order and name order differ.
  REQUIRE(store->import_jobs("weekly", make_specs(3), 1000, false).has_value());
  REQUIRE(store->import_jobs("nightly", make_specs(3), 1000, false).has_value());
  for (const auto& [batch, id] : {std::pair{"weekly", "job-0"}, std::pair{"weekly", "job-2"},
                                  std::pair{"nightly", "job-1"}}) {
    REQUIRE(
        apply_step(*store, step(row_of(*store, batch, id), JobState::queued, JobState::canceled))
            .has_value());
  }

  CHECK(names(store->list_jobs({})) == std::vector<std::string>{"nightly/job-0", "nightly/job-1",
                                                                "nightly/job-2", "weekly/job-0",
                                                                "weekly/job-1", "weekly/job-2"});
  CHECK(names(store->list_jobs({"weekly", std::nullopt})) ==
        std::vector<std::string>{"weekly/job-0", "weekly/job-1", "weekly/job-2"});
  CHECK(names(store->list_jobs({std::nullopt, JobState::canceled})) ==
        std::vector<std::string>{"nightly/job-1", "weekly/job-0", "weekly/job-2"});
  CHECK(names(store->list_jobs({"weekly", JobState::canceled})) ==
        std::vector<std::string>{"weekly/job-0", "weekly/job-2"});
  CHECK(names(store->list_jobs({"nightly", JobState::queued})) ==
        std::vector<std::string>{"nightly/job-0", "nightly/job-2"});
  CHECK(names(store->list_jobs({"monthly", std::nullopt})).empty());
  CHECK(names(store->list_jobs({std::nullopt, JobState::done})).empty());

  // Every column read back as stored, whichever statement text was used.
  auto one = store->list_jobs({"nightly", JobState::canceled});
  REQUIRE(one->size() == 1);
  CHECK(one->front().spec.prompt == "prompt number 1");
  CHECK(one->front().state == JobState::canceled);
}

TEMPLATE_TEST_CASE("for_each_job: the rows of list_jobs, one at a time; a failed visit stops it",
                   "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("weekly", make_specs(3), 1000, false).has_value());
  REQUIRE(store->import_jobs("nightly", make_specs(3), 1000, false).has_value());
  REQUIRE(apply_step(*store,
                     step(row_of(*store, "weekly", "job-1"), JobState::queued, JobState::canceled))
              .has_value());
  const std::vector<JobFilter> filters = {{},
                                          {"weekly", std::nullopt},
                                          {std::nullopt, JobState::canceled},
                                          {"nightly", JobState::queued},
                                          {"monthly", std::nullopt}};
  for (const JobFilter& filter : filters) {
    std::vector<JobRecord> visited;
    auto walked = store->for_each_job(filter, [&](const JobRecord& job) -> Status {
      visited.push_back(job);
      return {};
    });
    REQUIRE(walked.has_value());
    auto listed = store->list_jobs(filter);
    REQUIRE(listed.has_value());
    REQUIRE(visited.size() == listed->size());
    for (std::size_t i = 0; i < visited.size(); ++i) {
      CHECK(visited[i].row_id == (*listed)[i].row_id);
      CHECK(visited[i].state == (*listed)[i].state);
      CHECK(visited[i].spec.prompt == (*listed)[i].spec.prompt);
    }
  }
  int calls = 0;
  auto stopped = store->for_each_job({}, [&](const JobRecord&) -> Status {
    return ++calls == 2 ? fail(ErrorCode::io, "disk full") : Status{};
  });
  REQUIRE_FALSE(stopped.has_value());
  CHECK(stopped.error().message == "disk full");
  CHECK(calls == 2);
}

TEST_CASE("schema 003: status and reports read through its indexes, without sorting", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    auto store = open_store(path);
    REQUIRE(store->import_jobs("b", make_specs(3), 1000, false).has_value());
  }
  REQUIRE(has_index(path, "jobs_by_batch_state"));
  REQUIRE(has_index(path, "jobs_by_batch"));
  // The count of `status` walks the index in order: no temporary b-tree over every row.
  const std::string counts =
      plan_of(path,
              "SELECT b.name, j.state, count(*) FROM jobs j JOIN batches b ON b.id = j.batch_id "
              "GROUP BY b.name, j.state");
  INFO(counts);
  CHECK(counts.find("jobs_by_batch_state") != std::string::npos);
  CHECK(counts.find("TEMP B-TREE") == std::string::npos);
  const std::string one_state =
      plan_of(path,
              "SELECT j.id FROM jobs j JOIN batches b ON b.id = j.batch_id "
              "WHERE b.name = 'b' AND j.state = 'ambiguous' ORDER BY b.name, j.id");
  INFO(one_state);
  CHECK(one_state.find("jobs_by_batch_state (batch_id=? AND state=?)") != std::string::npos);
  CHECK(one_state.find("TEMP B-TREE") == std::string::npos);
  // The whole ledger in report order (batch name, row): batch by batch, no sort.
  const std::string all =
      plan_of(path,
              "SELECT j.id FROM jobs j JOIN batches b ON b.id = j.batch_id ORDER BY b.name, j.id");
  INFO(all);
  CHECK(all.find("jobs_by_batch (batch_id=?)") != std::string::npos);
  CHECK(all.find("TEMP B-TREE") == std::string::npos);
}

namespace {

// A ledger as vidbatch wrote it at schema `version`: one batch, one queued job.
void write_old_ledger(const std::string& path, int version, const std::string& spec_json = "{}") {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  for (const auto& file : store_detail::k_schema_files) {
    if (file.version <= version) {
      db.exec(file.sql);
    }
  }
  db.exec("PRAGMA user_version = " + std::to_string(version));
  db.exec("PRAGMA application_id = " + std::to_string(store_detail::k_application_id));
  db.exec("INSERT INTO batches (name, created_at) VALUES ('old', 1)");
  SQLite::Statement insert(db,
                           "INSERT INTO jobs (batch_id, job_key, spec_json, model, size, seconds, "
                           "orientation, prompt, state, created_at, updated_at) VALUES (1, 'a', "
                           "?1, 'm', 's', 4, 'landscape', 'p', 'queued', 1, 1)");
  insert.bind(1, spec_json);
  insert.exec();
}

void write_version_2_ledger(const std::string& path) {
  write_old_ledger(path, 2);
}

}  // namespace

TEST_CASE("schema 003 upgrades a version 2 ledger in place", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  write_version_2_ledger(path);
  REQUIRE_FALSE(has_index(path, "jobs_by_batch_state"));
  REQUIRE_FALSE(has_index(path, "jobs_by_batch"));
  {
    auto store = open_store(path);
    auto counts = store->count_states();
    REQUIRE(counts.has_value());
    REQUIRE(counts->size() == 1);
    CHECK((*counts)[0].batch == "old");
    CHECK((*counts)[0].count == 1);
  }
  CHECK(has_index(path, "jobs_by_batch_state"));
  CHECK(has_index(path, "jobs_by_batch"));
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() >= 3);
}

TEST_CASE("open_for_reading migrates an older ledger first", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  write_version_2_ledger(path);
  auto store = JobStore::open_for_reading(path);
  INFO((store ? std::string() : store.error().describe()));
  REQUIRE(store.has_value());
  REQUIRE((*store)->count_states().has_value());
  CHECK(has_index(path, "jobs_by_batch"));
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == store_detail::latest_schema_version());
}

TEST_CASE("schema 007 gives existing jobs the provider their spec names", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  JobSpec spec = make_spec("a");
  spec.provider = "kling";
  write_old_ledger(path, 5, spec.canonical_json());
  auto store = open_store(path);
  REQUIRE(store->register_worker("w", "h", 1, 60000).has_value());
  auto claimed = store->claim_jobs("w", WorkScope{"kling", false, std::nullopt},
                                   std::vector<JobState>{JobState::failed}, 5);
  REQUIRE(claimed.has_value());
  CHECK(claimed->empty());  // queued, not failed; the claim ran on the new columns
  REQUIRE(store->set_provider_limits("kling", {0, 1, 5}).has_value());
  auto admitted = store->admit_creates("w", WorkScope{"kling", false, std::nullopt}, 5, nullptr);
  REQUIRE(admitted.has_value());
  REQUIRE(admitted->jobs.size() == 1);
  CHECK(admitted->jobs.front().job.spec.provider == "kling");
}
