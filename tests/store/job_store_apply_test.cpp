// [store] transitions: the compare-and-set writes, their events, and the queries, on both
// ledgers (SQLite and PostgreSQL) but for the SQLite file's own kill -9 and read-only tests.
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>

#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

Status apply_one(JobStore& store, const Transition& t) {
  return store.apply({&t, 1});
}

JobRecord job_at(JobStore& store, std::int64_t row_id) {
  auto jobs = store.list_jobs({});
  REQUIRE(jobs.has_value());
  for (JobRecord& job : *jobs) {
    if (job.row_id == row_id) {
      return job;
    }
  }
  FAIL("no job with row id " << row_id);
  return {};
}

}  // namespace

TEMPLATE_TEST_CASE("a job walks the happy path with one consistent event per step", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("nightly", make_specs(2), 1000, false).has_value());
  const auto row = row_of(*store, "nightly", "job-1");
  const std::vector<JobState> path = {JobState::queued,    JobState::submitting,
                                      JobState::submitted, JobState::running,
                                      JobState::ready,     JobState::downloading,
                                      JobState::done};
  for (std::size_t i = 1; i < path.size(); ++i) {
    auto t = step(row, path[i - 1], path[i], 1000 + static_cast<Millis>(i));
    t.http_status = 200;
    t.message = "step " + std::to_string(i);
    auto applied = apply_one(*store, t);
    INFO((applied ? std::string() : applied.error().describe()));
    REQUIRE(applied.has_value());
  }
  CHECK(job_at(*store, row).state == JobState::done);

  auto events = store->events(row);
  REQUIRE(events.has_value());
  REQUIRE(events->size() == path.size());
  CHECK_FALSE(events->front().from.has_value());
  for (std::size_t i = 1; i < events->size(); ++i) {
    const EventRecord& e = (*events)[i];
    CHECK(e.from == (*events)[i - 1].to);
    CHECK(e.to == path[i]);
    CHECK(e.id > (*events)[i - 1].id);
    CHECK(e.at == 1000 + static_cast<Millis>(i));
    CHECK(e.http_status == 200);
    CHECK(e.job_id == "job-1");
    CHECK(e.job_row_id == row);
  }
  auto all = store->events(std::nullopt);
  CHECK(all->size() == 2 + path.size() - 1);
}

TEMPLATE_TEST_CASE("JobUpdate fields are persisted, unset ones kept", "[store]", SqliteLedger,
                   PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  const auto row = row_of(*store, "b", "job-0");

  auto submit = step(row, JobState::queued, JobState::submitting, 2000);
  submit.update.increment_attempt = true;
  submit.update.error_code = "rate_limited";
  submit.update.error_message = "429 earlier";
  REQUIRE(apply_one(*store, submit).has_value());
  auto accepted = step(row, JobState::submitting, JobState::submitted, 3000);
  accepted.update.remote_id = "video_68d7512d07848190b3e45da0ecbebcde";
  accepted.update.submitted_at = 3000;
  accepted.update.progress = 0.0;
  accepted.update.error_code = "";  // "" clears
  accepted.update.error_message = "";
  REQUIRE(apply_one(*store, accepted).has_value());
  auto running = step(row, JobState::submitted, JobState::running, 4000);
  running.update.progress = 42.5;
  running.update.not_before = 9000;
  REQUIRE(apply_one(*store, running).has_value());
  auto ready = step(row, JobState::running, JobState::ready, 5000);
  ready.update.completed_at = 5000;
  REQUIRE(apply_one(*store, ready).has_value());
  auto fetch = step(row, JobState::ready, JobState::downloading, 6000);
  REQUIRE(apply_one(*store, fetch).has_value());
  auto done = step(row, JobState::downloading, JobState::done, 7000);
  done.update.downloaded_at = 7000;
  done.update.output_path = "out/b/job-0.mp4";
  done.update.bytes = 1234567;
  done.update.sha256 = std::string(64, 'a');
  REQUIRE(apply_one(*store, done).has_value());

  const JobRecord job = job_at(*store, row);
  CHECK(job.state == JobState::done);
  CHECK(job.attempt == 1);
  CHECK(job.remote_id == "video_68d7512d07848190b3e45da0ecbebcde");
  REQUIRE(job.progress.has_value());
  CHECK(*job.progress == Approx(42.5));
  CHECK(job.not_before == 9000);
  CHECK(job.created_at == 1000);
  CHECK(job.submitted_at == 3000);
  CHECK(job.completed_at == 5000);
  CHECK(job.downloaded_at == 7000);
  CHECK(job.output_path == "out/b/job-0.mp4");
  CHECK(job.bytes == 1234567);
  CHECK(job.sha256 == std::string(64, 'a'));
  CHECK(job.error_code.empty());
  CHECK(job.error_message.empty());

  auto events = store->events(row);
  REQUIRE(events->size() == 7);
  CHECK((*events)[3].progress == Approx(42.5));
  CHECK_FALSE((*events)[1].progress.has_value());
}

TEMPLATE_TEST_CASE("a stale from state rolls back every transition of the call", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(3), 1000, false).has_value());
  const auto r0 = row_of(*store, "b", "job-0");
  const auto r1 = row_of(*store, "b", "job-1");
  const auto r2 = row_of(*store, "b", "job-2");
  REQUIRE(apply_one(*store, step(r1, JobState::queued, JobState::submitting)).has_value());

  const std::vector<Transition> batch = {
      step(r0, JobState::queued, JobState::submitting),
      step(r2, JobState::queued, JobState::canceled),
      step(r1, JobState::queued, JobState::submitting),  // stale: r1 is already submitting
  };
  auto result = store->apply(batch);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::conflict);
  CHECK(result.error().where == "job b/job-1");
  CHECK_THAT(result.error().message, Catch::Contains("submitting"));
  CHECK(job_at(*store, r0).state == JobState::queued);
  CHECK(job_at(*store, r2).state == JobState::queued);
  CHECK(store->events(std::nullopt)->size() == 4);

  SECTION("the store stays usable after the rollback") {
    REQUIRE(store->apply({batch.data(), 2}).has_value());
    CHECK(job_at(*store, r0).state == JobState::submitting);
    CHECK(job_at(*store, r2).state == JobState::canceled);
  }
}

TEMPLATE_TEST_CASE("transitions that are not edges of the state machine are rejected", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  const auto row = row_of(*store, "b", "job-0");
  auto result = apply_one(*store, step(row, JobState::queued, JobState::done));
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::conflict);
  CHECK(result.error().where == "job b/job-0");
  CHECK_THAT(result.error().message, Catch::Contains("queued -> done"));
  CHECK(job_at(*store, row).state == JobState::queued);

  auto missing = apply_one(*store, step(row + 100, JobState::queued, JobState::submitting));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == ErrorCode::not_found);
  CHECK(store->events(std::nullopt)->size() == 1);
}

TEMPLATE_TEST_CASE("note_activity counts polls and retries", "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  const auto row = row_of(*store, "b", "job-0");
  REQUIRE(store->note_activity(row, 1, 0).has_value());
  REQUIRE(store->note_activity(row, 2, 1).has_value());
  const JobRecord job = job_at(*store, row);
  CHECK(job.polls == 3);
  CHECK(job.retries == 1);
  auto missing = store->note_activity(row + 1, 1, 0);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == ErrorCode::not_found);
}

TEMPLATE_TEST_CASE("note_progress writes progress in its state, no event", "[store][progress]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  const auto row = row_of(*store, "b", "job-0");
  const Transition t = step(row, JobState::queued, JobState::submitting);
  REQUIRE(store->apply({&t, 1}).has_value());
  const std::int64_t version = store->latest_event_id().value();

  CHECK(store->note_progress(row, JobState::submitting, 35.0, 2000, std::nullopt).value());
  CHECK(job_at(*store, row).progress == 35.0);
  CHECK(store->latest_event_id().value() == version);  // not a transition
  CHECK(store->events(row)->size() == 2);

  // Another state, or no such job: nothing written.
  CHECK_FALSE(store->note_progress(row, JobState::running, 60.0, 3000, std::nullopt).value());
  CHECK_FALSE(
      store->note_progress(row + 1, JobState::submitting, 60.0, 3000, std::nullopt).value());
  CHECK(job_at(*store, row).progress == 35.0);
}

TEMPLATE_TEST_CASE("note_progress under a stale lease writes nothing", "[store][progress]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  REQUIRE(store->set_provider_limits("sim", {0, 1, 100}).has_value());
  REQUIRE(store->register_worker("w1", "host-a", 1, 60000).has_value());
  auto admitted = store->admit_creates("w1", WorkScope{"sim", true, std::nullopt}, 1, nullptr);
  REQUIRE(admitted.has_value());
  REQUIRE(admitted->jobs.size() == 1);
  const std::int64_t row = admitted->jobs[0].job.row_id;
  const Lease first = admitted->jobs[0].lease;
  Transition t = step(row, JobState::queued, JobState::submitting);
  t.lease = first;
  REQUIRE(store->apply({&t, 1}).has_value());
  CHECK(store->note_progress(row, JobState::submitting, 20.0, 2000, first).value());
  CHECK(job_at(*store, row).progress == 20.0);

  // Another token of the same worker (a claim since lost) writes nothing.
  CHECK_FALSE(
      store->note_progress(row, JobState::submitting, 30.0, 2500, Lease{"w1", first.token + 1})
          .value());
  CHECK(job_at(*store, row).progress == 20.0);

  // w1 loses the job: its lease writes nothing, while an unleased writer may.
  REQUIRE(store->release_leases(std::vector<LeasedJob>{{row, first}}, 0).value() == 1);
  CHECK_FALSE(store->note_progress(row, JobState::submitting, 50.0, 3000, first).value());
  CHECK(job_at(*store, row).progress == 20.0);
  CHECK(store->note_progress(row, JobState::submitting, 55.0, 3000, Lease{}).value());
  CHECK(job_at(*store, row).progress == 55.0);
}

TEMPLATE_TEST_CASE("jobs_in_states pages in row order", "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(10), 1000, false).has_value());
  for (int i = 0; i < 10; i += 3) {  // job-0, 3, 6, 9 -> submitting
    const auto row = row_of(*store, "b", "job-" + std::to_string(i));
    REQUIRE(apply_one(*store, step(row, JobState::queued, JobState::submitting)).has_value());
  }
  const std::array<JobState, 1> queued = {JobState::queued};
  std::vector<std::string> seen;
  std::int64_t after = 0;
  for (;;) {
    auto page = store->jobs_in_states(queued, after, 4);
    REQUIRE(page.has_value());
    if (page->empty()) {
      break;
    }
    CHECK(page->size() <= 4);
    for (const JobRecord& job : *page) {
      CHECK(job.row_id > after);
      after = job.row_id;
      seen.push_back(job.spec.id);
    }
  }
  CHECK(seen == std::vector<std::string>{"job-1", "job-2", "job-4", "job-5", "job-7", "job-8"});

  const std::array<JobState, 2> both = {JobState::submitting, JobState::queued};
  CHECK(store->jobs_in_states(both, 0, 100)->size() == 10);
  CHECK(store->jobs_in_states(both, 0, 0)->empty());
  CHECK(store->jobs_in_states({}, 0, 100)->empty());
}

TEMPLATE_TEST_CASE("count_states and list_jobs group and filter by batch and state", "[store]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("weekly", make_specs(2), 1000, false).has_value());
  REQUIRE(store->import_jobs("nightly", make_specs(3), 1000, false).has_value());
  const auto row = row_of(*store, "nightly", "job-2");
  REQUIRE(apply_one(*store, step(row, JobState::queued, JobState::canceled)).has_value());

  auto counts = store->count_states();
  REQUIRE(counts.has_value());
  REQUIRE(counts->size() == 3);
  CHECK((*counts)[0].batch == "nightly");
  CHECK((*counts)[0].state == JobState::queued);
  CHECK((*counts)[0].count == 2);
  CHECK((*counts)[1].state == JobState::canceled);
  CHECK((*counts)[1].count == 1);
  CHECK((*counts)[2].batch == "weekly");
  CHECK((*counts)[2].count == 2);

  auto all = store->list_jobs({});
  REQUIRE(all->size() == 5);
  CHECK(all->front().batch == "nightly");
  CHECK(all->front().spec.id == "job-0");
  CHECK(all->back().batch == "weekly");
  CHECK(store->list_jobs({"weekly", std::nullopt})->size() == 2);
  CHECK(store->list_jobs({std::nullopt, JobState::canceled})->size() == 1);
  CHECK(store->list_jobs({"weekly", JobState::canceled})->empty());
}

namespace {

// A ledger of two queued jobs whose first job a process moved to `submitting` and then died
// by SIGKILL: the transition is committed, in the write-ahead log only.
void ledger_killed_after_a_transition(const std::string& path) {
  {
    auto store = open_store(path, SyncMode::full);
    REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No Catch2 in the child: report through the exit status or die by SIGKILL.
    auto store = JobStore::open(path, SyncMode::full);
    const Transition t = step(1, JobState::queued, JobState::submitting);
    if (!store || !(*store)->apply({&t, 1})) {
      ::_exit(3);
    }
    ::raise(SIGKILL);
    ::_exit(4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}

}  // namespace

TEST_CASE("a committed transition survives kill -9", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  ledger_killed_after_a_transition(path);
  auto store = open_store(path, SyncMode::full);
  CHECK(job_at(*store, 1).state == JobState::submitting);
  CHECK(job_at(*store, 2).state == JobState::queued);
}

TEST_CASE("open_for_reading reads a killed run's log without writing anything", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  ledger_killed_after_a_transition(path);
  const std::string db_before = read_bytes(path);
  const std::string wal_before = read_bytes(path + "-wal");
  REQUIRE_FALSE(wal_before.empty());
  {
    auto store = JobStore::open_for_reading(path);
    INFO((store ? std::string() : store.error().describe()));
    REQUIRE(store.has_value());
    CHECK(job_at(**store, 1).state == JobState::submitting);  // read from the log
    const Transition t = step(2, JobState::queued, JobState::submitting);
    auto written = (*store)->apply({&t, 1});
    REQUIRE_FALSE(written.has_value());
    CHECK(written.error().code == ErrorCode::database);
  }
  // Closing as the last connection did not checkpoint the log into the ledger.
  CHECK(read_bytes(path) == db_before);
  CHECK(read_bytes(path + "-wal") == wal_before);
  auto store = open_store(path, SyncMode::full);
  CHECK(job_at(*store, 1).state == JobState::submitting);
  CHECK(job_at(*store, 2).state == JobState::queued);
}

TEMPLATE_TEST_CASE(
    "a download's URL and expiry travel with its transition; a new completion "
    "replaces them",
    "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  const auto row = row_of(*store, "b", "job-0");
  for (auto [from, to] : {std::pair{JobState::queued, JobState::submitting},
                          std::pair{JobState::submitting, JobState::submitted}}) {
    auto t = step(row, from, to);
    REQUIRE(apply_one(*store, t).has_value());
  }
  auto ready = step(row, JobState::submitted, JobState::ready);
  ready.update.download = DownloadUrl{};  // the status names no URL yet (MiniMax)
  REQUIRE(apply_one(*store, ready).has_value());
  CHECK(job_at(*store, row).download.url.empty());

  auto downloading = step(row, JobState::ready, JobState::downloading, 5000);
  downloading.update.download = DownloadUrl{"https://cdn.example/v.mp4?Expires=9", 9000, 5000};
  REQUIRE(apply_one(*store, downloading).has_value());
  const JobRecord held = job_at(*store, row);
  CHECK(held.download.url == "https://cdn.example/v.mp4?Expires=9");
  CHECK(held.download.expires_at == 9000);
  CHECK(held.download.recorded_at == 5000);
  CHECK(job_at(*store, row_of(*store, "b", "job-1")).download.url.empty());  // only its own

  // Interrupted: the URL stays for the resume. Refused: it goes.
  auto back = step(row, JobState::downloading, JobState::ready, 6000);
  REQUIRE(apply_one(*store, back).has_value());
  CHECK(job_at(*store, row).download.expires_at == 9000);
  auto again = step(row, JobState::ready, JobState::downloading, 7000);
  REQUIRE(apply_one(*store, again).has_value());
  auto refused = step(row, JobState::downloading, JobState::ready, 8000);
  refused.update.download = DownloadUrl{};
  REQUIRE(apply_one(*store, refused).has_value());
  CHECK(job_at(*store, row).download.url.empty());
  CHECK(job_at(*store, row).download.expires_at == 0);
}

TEST_CASE("copy_ledger carries each job's download URL into PostgreSQL", "[store][postgres]") {
  SqliteLedger from;
  PgLedger to;
  std::int64_t row = 0;
  {
    auto store = open_store(from.location());
    REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
    row = row_of(*store, "b", "job-0");
    for (auto [was, now] : {std::pair{JobState::queued, JobState::submitting},
                            std::pair{JobState::submitting, JobState::submitted},
                            std::pair{JobState::submitted, JobState::ready}}) {
      REQUIRE(apply_one(*store, step(row, was, now)).has_value());
    }
    auto downloading = step(row, JobState::ready, JobState::downloading, 5000);
    downloading.update.download = DownloadUrl{"https://cdn.example/v.mp4?Expires=9", 9000, 5000};
    REQUIRE(apply_one(*store, downloading).has_value());
  }
  auto copied = JobStore::copy_ledger(from.location(), to.location());
  INFO((copied ? std::string() : copied.error().describe()));
  REQUIRE(copied.has_value());
  const auto urls = std::find_if(copied->begin(), copied->end(),
                                 [](const CopiedTable& t) { return t.table == "download_urls"; });
  REQUIRE(urls != copied->end());
  CHECK(urls->rows == 1);
  auto store = open_store(to.location());
  const JobRecord held = job_at(*store, row);
  CHECK(held.download.url == "https://cdn.example/v.mp4?Expires=9");
  CHECK(held.download.expires_at == 9000);
  CHECK(held.download.recorded_at == 5000);
}

// Deferred durability: the commit is in the ledger at once (another connection sees it), and
// the store's syncer makes it durable on any thread; only sync = "full" waits for the disk
// at all, so only it has anything to defer.
TEST_CASE("a deferred commit is visible at once and made durable by the store's syncer",
          "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  CHECK_FALSE(open_store(path, SyncMode::normal)->commit_syncer());
  CHECK_FALSE(open_store(path, SyncMode::off)->commit_syncer());
  auto store = open_store(path, SyncMode::full);
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  const auto sync = store->commit_syncer();
  REQUIRE(sync);
  {
    DeferredCommits deferred(*store);
    REQUIRE(apply_one(*store, step(1, JobState::queued, JobState::submitting)).has_value());
  }
  CHECK(job_at(*open_store(path), 1).state == JobState::submitting);
  Status synced;
  std::thread([&] { synced = sync(); }).join();
  INFO((synced ? std::string() : synced.error().describe()));
  CHECK(synced.has_value());
}

TEST_CASE("a syncer that cannot open the ledger's log says which file", "[store]") {
  TempDir dir;
  const std::string path = dir.file("ledger.db");
  auto store = open_store(path, SyncMode::full);
  const auto sync = store->commit_syncer();
  REQUIRE(sync);
  std::filesystem::rename(path + "-wal", path + "-moved");
  const Status synced = sync();
  REQUIRE_FALSE(synced.has_value());
  CHECK(synced.error().code == ErrorCode::io);
  CHECK(synced.error().where == path + "-wal");
}
