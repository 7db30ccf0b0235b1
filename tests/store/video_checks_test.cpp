// [store] schema 006 (PostgreSQL: postgresql/002): the check of each downloaded video (probe +
// verdict) travels with the transition that saved it, is read with the job, filters and counts
// mismatches, and goes when the user queues the job again; latest_event_id() moves with every
// transition. On both ledgers (SQLite and PostgreSQL).
#include <SQLiteCpp/SQLiteCpp.h>

#include "store/migrations.h"
#include "store/schema_sql.h"
#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

VideoCheck short_video() {
  VideoCheck check;
  check.verdict = "duration_short";
  check.mismatches = "asked for 8 s, got a 4 s video (tolerance 0.5 s)";
  check.checked_at = 7000;
  check.probed = true;
  check.container = "mov,mp4,m4a,3gp,3g2,mj2";
  check.has_video = true;
  check.video_codec = "h264";
  check.duration_ms = 4000;
  check.width = 1280;
  check.height = 720;
  check.frame_rate = 30;
  check.has_audio = true;
  check.audio_codec = "aac";
  return check;
}

// Walks the job to downloading, then saves it as done with `check`.
void save(JobStore& store, std::int64_t row, const VideoCheck& check) {
  const JobState path[] = {JobState::queued, JobState::submitting, JobState::submitted,
                           JobState::ready, JobState::downloading};
  for (std::size_t i = 1; i < std::size(path); ++i) {
    auto t = step(row, path[i - 1], path[i]);
    REQUIRE(store.apply({&t, 1}).has_value());
  }
  auto t = step(row, JobState::downloading, JobState::done, 7000);
  t.update.check = check;
  REQUIRE(store.apply({&t, 1}).has_value());
}

JobRecord job(JobStore& store, const std::string& batch, const std::string& id) {
  auto found = store.find_job(batch, id);
  INFO((found ? std::string() : found.error().describe()));
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  return **found;
}

}  // namespace

TEMPLATE_TEST_CASE("a video's check is stored with its transition and read with the job", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  save(*store, row_of(*store, "b", "job-0"), short_video());

  const JobRecord checked = job(*store, "b", "job-0");
  CHECK(checked.check.verdict == "duration_short");
  CHECK(checked.check.mismatched());
  CHECK(checked.check.mismatches == short_video().mismatches);
  CHECK(checked.check.checked_at == 7000);
  CHECK(checked.check.probed);
  CHECK(checked.check.container == "mov,mp4,m4a,3gp,3g2,mj2");
  CHECK(checked.check.has_video);
  CHECK(checked.check.video_codec == "h264");
  CHECK(checked.check.duration_ms == 4000);
  CHECK(checked.check.width == 1280);
  CHECK(checked.check.height == 720);
  CHECK(checked.check.frame_rate == 30);
  CHECK(checked.check.has_audio);
  CHECK(checked.check.audio_codec == "aac");

  const JobRecord unchecked = job(*store, "b", "job-1");
  CHECK_FALSE(unchecked.check.checked());
  CHECK_FALSE(unchecked.check.mismatched());
}

TEMPLATE_TEST_CASE("mismatched jobs are filtered and counted per batch; ok ones are not", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("a", make_specs(3), 1000, false).has_value());
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  VideoCheck ok;
  ok.verdict = "ok";
  ok.probed = true;
  save(*store, row_of(*store, "a", "job-0"), short_video());
  save(*store, row_of(*store, "a", "job-1"), ok);
  save(*store, row_of(*store, "a", "job-2"), short_video());
  save(*store, row_of(*store, "b", "job-1"), short_video());

  JobFilter filter;
  filter.mismatched = true;
  auto all = store->list_jobs(filter);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].spec.id == "job-0");
  CHECK((*all)[2].batch == "b");
  filter.batch = "a";
  filter.state = JobState::done;
  auto of_a = store->list_jobs(filter);
  REQUIRE(of_a.has_value());
  CHECK(of_a->size() == 2);
  std::size_t visited = 0;
  REQUIRE(store
              ->for_each_job(filter,
                             [&](const JobRecord& j) -> Status {
                               CHECK(j.check.mismatched());
                               ++visited;
                               return {};
                             })
              .has_value());
  CHECK(visited == 2);

  auto counts = store->count_mismatched();
  REQUIRE(counts.has_value());
  REQUIRE(counts->size() == 2);
  CHECK((*counts)[0].batch == "a");
  CHECK((*counts)[0].count == 2);
  CHECK((*counts)[1].batch == "b");
  CHECK((*counts)[1].count == 1);
}

TEMPLATE_TEST_CASE("queuing a mismatched job again removes its check", "[store]", SqliteLedger,
                   PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  const auto row = row_of(*store, "b", "job-0");
  save(*store, row, short_video());
  auto retry = step(row, JobState::done, JobState::queued, 8000);
  retry.update.check = VideoCheck{};
  REQUIRE(store->apply({&retry, 1}).has_value());
  CHECK_FALSE(job(*store, "b", "job-0").check.checked());
  auto counts = store->count_mismatched();
  REQUIRE(counts.has_value());
  CHECK(counts->empty());
}

TEMPLATE_TEST_CASE("latest_event_id rises with every transition and import", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  auto none = store->latest_event_id();
  REQUIRE(none.has_value());
  CHECK(*none == 0);
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  auto imported = store->latest_event_id();
  REQUIRE(imported.has_value());
  CHECK(*imported >= 2);
  auto t = step(row_of(*store, "b", "job-1"), JobState::queued, JobState::canceled);
  REQUIRE(store->apply({&t, 1}).has_value());
  auto after = store->latest_event_id();
  REQUIRE(after.has_value());
  CHECK(*after == *imported + 1);
}

TEMPLATE_TEST_CASE("a transition that finds its job elsewhere writes no check", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  auto lost = step(row_of(*store, "b", "job-0"), JobState::downloading, JobState::done, 7000);
  lost.update.check = short_video();
  REQUIRE_FALSE(store->apply({&lost, 1}).has_value());
  CHECK_FALSE(job(*store, "b", "job-0").check.checked());
  auto counts = store->count_mismatched();
  REQUIRE(counts.has_value());
  CHECK(counts->empty());
}

TEST_CASE("schema 006 adds video_checks to a version 5 ledger, jobs kept", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& file : store_detail::k_schema_files) {
      if (file.version <= 5) {
        db.exec(file.sql);
      }
    }
    db.exec("PRAGMA user_version = 5");
    db.exec("PRAGMA application_id = " + std::to_string(store_detail::k_application_id));
    db.exec("INSERT INTO batches (name, created_at) VALUES ('old', 1)");
    SQLite::Statement
        insert(db,
               "INSERT INTO jobs (batch_id, job_key, spec_json, model, size, seconds, orientation, "
               "prompt, state, created_at, updated_at) VALUES (1, 'a', ?1, 'sora-2', 'small', 4, "
               "'landscape', 'p', 'done', 1, 1)");
    insert.bind(1, make_spec("a", "p").canonical_json());
    insert.exec();
  }
  auto store = open_store(path);
  const JobRecord old = job(*store, "old", "a");
  CHECK(old.state == JobState::done);
  CHECK_FALSE(old.check.checked());
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  CHECK(db.tableExists("video_checks"));
  CHECK(db.execAndGet("PRAGMA user_version").getInt() == store_detail::latest_schema_version());
}
